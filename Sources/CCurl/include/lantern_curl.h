// One HTTP GET through libcurl's easy interface, for ModelHub's downloads. libcurl waits on its
// sockets with poll(): a transfer waiting for the network sleeps (Foundation's URLSession on
// Linux spun at ~80 % of a core). Swift cannot call curl_easy_setopt (variadic), hence this shim.
#ifndef LANTERN_CURL_H
#define LANTERN_CURL_H
#include <stddef.h>

/// Receives header lines (one per call, with their CR LF; a status line starts each response,
/// redirects included) or body bytes. Returning fewer than `length` stops the transfer.
typedef size_t (*lantern_curl_sink)(const char *data, size_t length, void *context);

/// GETs `url`, following redirects (the `range`, e.g. "100-", and every header go along), with
/// `Accept-Encoding: identity`; gives up when no byte arrives for `idle_timeout` seconds. Returns
/// libcurl's result (0 when the transfer completed); `status` is the last response's HTTP status
/// (0 if none). A short reason for a failure is written into `reason`.
int lantern_curl_get(const char *url, const char *range, const char *user_agent, long idle_timeout,
                     lantern_curl_sink on_header, lantern_curl_sink on_body, void *context,
                     long *status, char *reason, size_t reason_size);

/// Whether `code` means a sink stopped the transfer (it declined the body, or could not store it).
int lantern_curl_stopped_by_sink(int code);

#endif
