// Core Wizer's convention, as ComponentizeJS uses it: the init is a core export the
// component does not lift, and it reads its input from stdin.
#include <stdio.h>
#include <string.h>

static char text[4096];
static unsigned words;

__attribute__((export_name("componentize.wizer"))) void init(void) {
    size_t n = fread(text, 1, sizeof text - 1, stdin);
    text[n] = 0;
    int in_word = 0;
    for (size_t i = 0; i < n; i++) {
        int space = text[i] == ' ' || text[i] == '\n' || text[i] == '\t';
        if (!space && !in_word) words++;
        in_word = !space;
    }
}

__attribute__((export_name("words"))) unsigned words_export(void) { return words; }

__attribute__((export_name("first-byte"))) unsigned first_byte(void) {
    return (unsigned char)text[0];
}

// Writes through WASI after the snapshot. The preview1 adapter held the stdin handle from the
// init's run; the snapshot must not hand it (or any handle) to the next instance.
__attribute__((export_name("say"))) unsigned say(void) {
    printf("%u words\n", words);
    fflush(stdout);
    return words;
}
