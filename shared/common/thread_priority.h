#pragma once
// Background threads (the usage store, the usage reporter) must never take
// a core from a thread that serves requests: on a busy core the scheduler
// would otherwise give them whole time slices (milliseconds) while a
// worker's loop waits, which shows as tail latency. A lower priority lets
// them run in the gaps instead. Linux: nice applies per thread (by tid).

namespace bitrouter {

// Sets the calling thread's nice value; returns the previous one (so a
// borrowed thread can be given back as it was). Failures are ignored: a
// priority is an optimisation, never a reason to fail.
int SetThreadNice(int nice);

}  // namespace bitrouter
