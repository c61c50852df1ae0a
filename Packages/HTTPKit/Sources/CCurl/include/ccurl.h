// libcurl, loaded when first used (issue 16): `corral --help` and every command that does not talk to the
// controller start without libcurl and the ~36 libraries it pulls in. The types and constants come from
// <curl/curl.h>; every function goes through the library dlopen(3) loads. The typed setopt/getinfo wrappers
// exist because Swift cannot call libcurl's variadic curl_easy_setopt/curl_easy_getinfo.
#ifndef CCURL_H
#define CCURL_H

#include <curl/curl.h>

typedef size_t (*ccurl_data_callback)(char *buffer, size_t size, size_t count, void *context);
typedef int (*ccurl_xferinfo_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                                       curl_off_t ulnow);

// Loads libcurl.so.4 and runs curl_global_init, once per process. NULL when that worked; otherwise why not.
const char *ccurl_load_error(void);

// NULL when libcurl could not be loaded (ccurl_load_error says why).
CURL *ccurl_easy_init(void);
void ccurl_easy_cleanup(CURL *handle);
void ccurl_easy_reset(CURL *handle);
CURLcode ccurl_easy_perform(CURL *handle);
const char *ccurl_easy_strerror(CURLcode code);
struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *text);
void ccurl_slist_free_all(struct curl_slist *list);

CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode ccurl_setopt_ptr(CURL *handle, CURLoption option, const void *value);
CURLcode ccurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode ccurl_setopt_write_callback(CURL *handle, ccurl_data_callback callback);
CURLcode ccurl_setopt_header_callback(CURL *handle, ccurl_data_callback callback);
// Called about once a second even on a quiet transfer; a non-zero return aborts it (CURLE_ABORTED_BY_CALLBACK).
CURLcode ccurl_setopt_xferinfo_callback(CURL *handle, ccurl_xferinfo_callback callback);
CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value);

#endif
