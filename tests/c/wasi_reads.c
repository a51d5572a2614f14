// A Wizer-style init (WASI preview 1, reactor) that reads stdin, the environment and a file
// from a preopened directory, keeping what it read for later calls.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int word_count;
static char mode[32];
static char config[64];
static int config_len = -1;

__attribute__((export_name("wizer.initialize"))) void init(void) {
    char buf[256];
    ssize_t n = read(0, buf, sizeof buf - 1);
    int in_word = 0;
    for (ssize_t i = 0; i < n; i++) {
        int space = buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n';
        if (!space && !in_word) word_count++;
        in_word = !space;
    }
    const char *m = getenv("MODE");
    if (m) strncpy(mode, m, sizeof mode - 1);
    FILE *f = fopen("/data/config.txt", "r");
    if (f) {
        config_len = (int)fread(config, 1, sizeof config, f);
        fclose(f);
    }
}

__attribute__((export_name("words"))) int words(void) { return word_count; }
__attribute__((export_name("mode"))) int mode_byte(int i) { return (unsigned char)mode[i & 31]; }
__attribute__((export_name("config_len"))) int get_config_len(void) { return config_len; }
__attribute__((export_name("config"))) int config_byte(int i) { return (unsigned char)config[i & 63]; }
