/* The floor of herald's own stack for a one-shot registry write: a bare C program that makes the
 * same single etcd v3 put with Debian's libcurl and exits. bench/announce.py builds and times it.
 * Usage: curl_floor http://127.0.0.1:2379 '{"key":"...","value":"..."}' */
#include <curl/curl.h>
#include <stdio.h>

static size_t discard(char* ptr, size_t size, size_t n, void* data) {
  (void)ptr;
  (void)data;
  return size * n;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s BASE_URL JSON\n", argv[0]);
    return 2;
  }
  char url[512];
  snprintf(url, sizeof url, "%s/v3/kv/put", argv[1]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, argv[2]);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  curl_global_cleanup();
  return rc == CURLE_OK && status == 200 ? 0 : 1;
}
