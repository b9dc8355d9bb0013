#include "shared/common/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace bitrouter {

int SetThreadNice(int nice) {
  const id_t tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  int previous = getpriority(PRIO_PROCESS, tid);
  if (errno != 0) previous = 0;
  (void)setpriority(PRIO_PROCESS, tid, nice);
  return previous;
}

}  // namespace bitrouter
