#pragma once
// Blocking raw HTTP/1.1 test client (plain TCP to 127.0.0.1) with timeouts.
// No exceptions; failures are reported via HttpResponse::error / bool returns.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bitrouter::testing {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  std::string reason;
  HeaderList headers;
  std::string body;       // de-chunked
  bool complete = false;  // full body seen (Content-Length satisfied, 0-chunk, or EOF-delimited)
  bool chunked = false;
  std::string error;  // empty on success; "timeout", "connection closed", "parse error: ..."
  // First header value with this name (case-insensitive), "" if absent.
  std::string Header(std::string_view name) const;
};

// One keep-alive connection. Not thread-safe.
class HttpClient {
 public:
  HttpClient() = default;
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Connects to 127.0.0.1:port (closing any previous connection).
  bool Connect(int port, int timeout_ms = 5000);
  // Writes all bytes (blocking). A request starting with "HEAD " makes the next
  // response be read as bodiless.
  bool SendRaw(std::string_view bytes);
  // Reads exactly one final response (skipping 1xx interim responses); handles
  // Content-Length, chunked and read-until-close bodies, and bodiless statuses
  // (1xx/204/304, HEAD). timeout_ms is an overall deadline.
  HttpResponse ReadResponse(int timeout_ms = 10000);
  // Like ReadResponse, but calls on_chunk for each decoded chunk as soon as it
  // has fully arrived (for non-chunked bodies: for each piece read from the
  // socket). The returned body is the concatenation.
  HttpResponse ReadResponseStreaming(const std::function<void(std::string_view)>& on_chunk,
                                     int timeout_ms = 10000);
  // True if the peer closed (read returns 0 or ECONNRESET) within timeout_ms.
  // Any data received meanwhile is kept for the next ReadResponse.
  bool WaitForClose(int timeout_ms);
  void Close();
  int fd() const { return fd_; }
  // Description of the last Connect/SendRaw failure.
  const std::string& last_error() const { return last_error_; }

 private:
  enum class ReadResult { kData, kEof, kTimeout, kError };
  ReadResult ReadMore(long long deadline_ms);
  HttpResponse ReadOne(const std::function<void(std::string_view)>* on_chunk, int timeout_ms);

  int fd_ = -1;
  std::string buf_;  // received but not yet consumed bytes
  int pending_head_requests_ = 0;
  bool reset_seen_ = false;
  std::string last_error_;
};

// Builds a request. Adds "Host: 127.0.0.1", "Content-Length" (when the body is
// non-empty or the method is POST) and "Content-Type: application/json" (when
// the body is non-empty), unless extra_headers already sets that header (a
// Transfer-Encoding extra header also suppresses Content-Length).
std::string BuildRequest(std::string_view method, std::string_view target, std::string_view body,
                         const HeaderList& extra_headers = {});

// One-shot convenience: connect, send, read one response, close.
HttpResponse Fetch(int port, std::string_view method, std::string_view target,
                   std::string_view body = {}, const HeaderList& headers = {},
                   int timeout_ms = 10000);

}  // namespace bitrouter::testing
