/*
 * listen.c -- the least an image function's server can do before it is
 * up, as the yardstick of `bootstrap serve`'s exec -> listening time
 * (bench/listen, `scf-bench listen`).
 *
 * It reads the address from SCF_BOOTSTRAP_LISTEN ("a.b.c.d:port", dotted
 * IPv4 only), then makes the same four calls the bootstrap makes first
 * (tests/footprint.rs: socket, setsockopt SO_REUSEADDR, bind, listen) and
 * waits. It never accepts: the kernel completes a client's handshake into
 * the backlog by itself, so a connect succeeds as soon as listen(2) has
 * returned, which is what the benchmark times. No error handling beyond
 * exiting with status 1.
 *
 * It keeps the musl C start-up (crt1 -> __libc_start_main -> main), which
 * the bootstrap, a Rust-on-musl static executable, pays too.
 *
 * Build: musl-gcc -static -Os -s -o listen listen.c
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    const char *a = getenv("SCF_BOOTSTRAP_LISTEN");
    const char *colon = a ? strrchr(a, ':') : NULL;
    if (!colon || colon - a > 15) return 1;
    char ip[16];
    memcpy(ip, a, (size_t)(colon - a));
    ip[colon - a] = '\0';
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(colon + 1)) };
    if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1) return 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return 1;
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(fd, 128) != 0) return 1;
    for (;;) pause();
}
