#include "lantern_curl.h"
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t initialised = PTHREAD_ONCE_INIT;
static void initialise(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

struct sinks { lantern_curl_sink header, body; void *context; };

static size_t on_header(char *data, size_t size, size_t count, void *user) {
    struct sinks *s = user;
    return s->header(data, size * count, s->context);
}

static size_t on_body(char *data, size_t size, size_t count, void *user) {
    struct sinks *s = user;
    return s->body(data, size * count, s->context);
}

/// The words the downloader's messages use for the common failures.
static const char *reason_for(CURLcode code) {
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY: return "host not found";
    case CURLE_COULDNT_CONNECT: return "could not connect";
    case CURLE_OPERATION_TIMEDOUT: return "timed out";
    case CURLE_RECV_ERROR: case CURLE_SEND_ERROR: case CURLE_PARTIAL_FILE: case CURLE_GOT_NOTHING:
        return "connection lost";
    case CURLE_SSL_CONNECT_ERROR: case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER: case CURLE_SSL_CACERT_BADFILE:
        return "secure connection failed";
    case CURLE_TOO_MANY_REDIRECTS: return "too many redirects";
    default: return curl_easy_strerror(code);
    }
}

int lantern_curl_get(const char *url, const char *range, const char *user_agent, long idle_timeout,
                     lantern_curl_sink header, lantern_curl_sink body, void *context,
                     long *status, char *reason, size_t reason_size) {
    pthread_once(&initialised, initialise);
    *status = 0;
    if (reason_size > 0) reason[0] = 0;
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(reason, reason_size, "libcurl could not start a transfer");
        return CURLE_FAILED_INIT;
    }
    struct sinks sinks = { header, body, context };
    struct curl_slist *headers = curl_slist_append(NULL, "Accept-Encoding: identity");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (range) curl_easy_setopt(curl, CURLOPT_RANGE, range);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, user_agent);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, idle_timeout);
    // "Idle": fewer than 1 byte a second for idle_timeout seconds.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, idle_timeout);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sinks);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sinks);
    CURLcode code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    if (code != CURLE_OK) snprintf(reason, reason_size, "%s", reason_for(code));
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return code;
}

int lantern_curl_stopped_by_sink(int code) { return code == CURLE_WRITE_ERROR; }
