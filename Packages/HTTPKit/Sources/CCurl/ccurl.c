#include "ccurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *handle);
    void (*easy_reset)(CURL *handle);
    CURLcode (*easy_perform)(CURL *handle);
    const char *(*easy_strerror)(CURLcode code);
    CURLcode (*easy_setopt)(CURL *handle, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *handle, CURLINFO info, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *text);
    void (*slist_free_all)(struct curl_slist *list);
} api;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char error_text[512];
static const char *load_error = "libcurl was not loaded";

static void *symbol(void *library, const char *name) {
    void *found = dlsym(library, name);
    if (found == NULL && error_text[0] == 0) {
        snprintf(error_text, sizeof error_text, "libcurl.so.4 has no %s: install libcurl 7.32 or later", name);
    }
    return found;
}

static void load(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        const char *why = dlerror();
        snprintf(error_text, sizeof error_text, "cannot load libcurl (install libcurl4): %s", why ? why : "not found");
        load_error = error_text;
        return;
    }
    api.global_init = (CURLcode (*)(long))symbol(library, "curl_global_init");
    api.easy_init = (CURL * (*)(void)) symbol(library, "curl_easy_init");
    api.easy_cleanup = (void (*)(CURL *))symbol(library, "curl_easy_cleanup");
    api.easy_reset = (void (*)(CURL *))symbol(library, "curl_easy_reset");
    api.easy_perform = (CURLcode (*)(CURL *))symbol(library, "curl_easy_perform");
    api.easy_strerror = (const char *(*)(CURLcode))symbol(library, "curl_easy_strerror");
    api.easy_setopt = (CURLcode (*)(CURL *, CURLoption, ...))symbol(library, "curl_easy_setopt");
    api.easy_getinfo = (CURLcode (*)(CURL *, CURLINFO, ...))symbol(library, "curl_easy_getinfo");
    api.slist_append = (struct curl_slist * (*)(struct curl_slist *, const char *)) symbol(library, "curl_slist_append");
    api.slist_free_all = (void (*)(struct curl_slist *))symbol(library, "curl_slist_free_all");
    if (error_text[0] != 0) {
        load_error = error_text;
        return;
    }
    CURLcode code = api.global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        snprintf(error_text, sizeof error_text, "curl_global_init failed: %s", api.easy_strerror(code));
        load_error = error_text;
        return;
    }
    load_error = NULL;
}

const char *ccurl_load_error(void) {
    pthread_once(&once, load);
    return load_error;
}

// A handle exists only once the library is loaded: the calls that take one need no check.
CURL *ccurl_easy_init(void) { return ccurl_load_error() == NULL ? api.easy_init() : NULL; }
void ccurl_easy_cleanup(CURL *handle) { api.easy_cleanup(handle); }
void ccurl_easy_reset(CURL *handle) { api.easy_reset(handle); }
CURLcode ccurl_easy_perform(CURL *handle) { return api.easy_perform(handle); }

const char *ccurl_easy_strerror(CURLcode code) {
    return ccurl_load_error() == NULL ? api.easy_strerror(code) : load_error;
}

struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *text) {
    return ccurl_load_error() == NULL ? api.slist_append(list, text) : NULL;
}

void ccurl_slist_free_all(struct curl_slist *list) {
    if (list != NULL) api.slist_free_all(list);
}

CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return api.easy_setopt(handle, option, value);
}

CURLcode ccurl_setopt_ptr(CURL *handle, CURLoption option, const void *value) {
    return api.easy_setopt(handle, option, value);
}

CURLcode ccurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return api.easy_setopt(handle, option, value);
}

CURLcode ccurl_setopt_write_callback(CURL *handle, ccurl_data_callback callback) {
    return api.easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

CURLcode ccurl_setopt_header_callback(CURL *handle, ccurl_data_callback callback) {
    return api.easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

CURLcode ccurl_setopt_xferinfo_callback(CURL *handle, ccurl_xferinfo_callback callback) {
    return api.easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value) { return api.easy_getinfo(handle, info, value); }
