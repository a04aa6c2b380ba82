/* A C program holding one libcurl handle, refreshing an etcd v3 lease every INTERVAL seconds:
 * the memory floor of a long-running sidekick built on libcurl. bench/announce.py measures it.
 * Usage: curl_loop http://127.0.0.1:2379 LEASE_ID INTERVAL_MS */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static size_t discard(char* ptr, size_t size, size_t n, void* data) {
  (void)ptr;
  (void)data;
  return size * n;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s BASE_URL LEASE_ID INTERVAL_MS\n", argv[0]);
    return 2;
  }
  char url[512];
  char body[128];
  snprintf(url, sizeof url, "%s/v3/lease/keepalive", argv[1]);
  snprintf(body, sizeof body, "{\"ID\":\"%s\"}", argv[2]);
  long ms = atol(argv[3]);
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  for (;;) {
    curl_easy_perform(curl);
    nanosleep(&pause, NULL);
  }
}
