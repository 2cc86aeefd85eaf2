/*
 * floor.c -- the least a Custom Runtime bootstrap can do, as a yardstick.
 *
 * One TCP connection to the runtime API; POST /runtime/init/ready; then,
 * forever, GET /runtime/invocation/next, write the event and a newline to
 * stderr (the guide's echo logs every event, and so does every other
 * contender), POST /runtime/invocation/response with
 * "Echoing request: '<event>'". Every request leaves in one writev; every
 * I/O call is a raw `syscall` instruction. There is no error handling, no
 * reconnect, no header parsing beyond Content-Length, no chunked decoding
 * and no limit checks: it is correct only against a well-behaved peer on
 * loopback, which is all the benchmark asks of it. Nothing that still
 * answers the protocol can run fewer instructions or syscalls.
 *
 * It keeps the musl C start-up (crt1 -> __libc_start_main -> main), which
 * every static C or Rust-on-musl executable pays, this project's bootstrap
 * included, so the floor measures what a runtime adds on top of a process.
 *
 * Environment: SCF_RUNTIME_API must be a dotted IPv4 literal (or
 * "localhost"), SCF_RUNTIME_API_PORT a decimal port.
 *
 * Built with -DLAMBDA it is the floor of AWS Lambda's dialect instead: no
 * ready (the first `next` is the signal), paths under /2018-06-01/, the
 * request id taken from the Lambda-Runtime-Aws-Request-Id header of the
 * event and sent back in the result's path (as a writev piece pointing
 * into the receive buffer: nothing copied). AWS_LAMBDA_RUNTIME_API must be
 * "a.b.c.d:port" with a dotted IPv4 literal. The other context headers
 * are not read.
 *
 * Build: musl-gcc -static -Os -s -o bootstrap floor.c   (-DLAMBDA for Lambda)
 */
#include <stddef.h>

#define SYS_read 0
#define SYS_write 1
#define SYS_writev 20
#define SYS_socket 41
#define SYS_connect 42

static long sys3(long n, long a, long b, long c) {
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}

struct iov {
    const void *base;
    size_t len;
};

struct sockaddr_in4 {
    unsigned short family;
    unsigned short port; /* network order */
    unsigned char addr[4];
    unsigned char zero[8];
};

/* Room for the 6 MB event plus its head. In .bss: costs no file size, and
 * only the pages an event touches become resident. */
static char rx[7 << 20];

#ifdef LAMBDA
/* The request id of the last event: a span of rx. */
static const char *rid;
static size_t rid_len;
#endif

static const char *env(char **envp, const char *name) {
    for (; *envp; envp++) {
        const char *e = *envp, *n = name;
        while (*n && *e == *n) e++, n++;
        if (!*n && *e == '=') return e + 1;
    }
    return "";
}

static size_t put_dec(char *out, size_t v) {
    char tmp[20];
    size_t n = 0, i = 0;
    do tmp[n++] = (char)('0' + v % 10); while (v /= 10);
    while (n) out[i++] = tmp[--n];
    return i;
}

/* Reads one response into rx: returns the offset of its body and sets
 * *len. One pass over the head: at each line start, a case-insensitive
 * look for "content-length:"; the head ends at the first empty line. A
 * line that has not fully arrived is looked at again after the next read.
 * Only Content-Length framing; the response is assumed well-formed. With
 * LAMBDA, a line that is not Content-Length is also looked at for the
 * request id header, and its value noted. */
static size_t read_response(int fd, size_t *len) {
    static const char key[] = "content-length:";
    const size_t klen = sizeof key - 1;
    size_t have = 0, i = 0, head = 0, body = 0;
    for (;;) {
        have += (size_t)sys3(SYS_read, fd, (long)(rx + have), (long)(sizeof rx - have));
        for (; !head && i < have; i++) {
            if (rx[i] != '\n') continue;
            if (i >= 2 && rx[i - 1] == '\r' && rx[i - 2] == '\n') {
                head = i + 1;
                break;
            }
            size_t p = i + 1, k = 0;
            while (k < klen && p < have && (rx[p] | 0x20) == key[k]) p++, k++;
            if (p == have) break; /* undecided yet */
#ifdef LAMBDA
            if (k < klen) {
                static const char idkey[] = "lambda-runtime-aws-request-id:";
                size_t q = i + 1, j = 0;
                while (j < sizeof idkey - 1 && q < have && (rx[q] | 0x20) == idkey[j]) q++, j++;
                if (q == have) break;
                if (j < sizeof idkey - 1) continue;
                while (q < have && rx[q] == ' ') q++;
                size_t start = q;
                while (q < have && rx[q] != '\r') q++;
                if (q == have) break;
                rid = rx + start, rid_len = q - start;
                continue;
            }
#else
            if (k < klen) continue;
#endif
            while (p < have && rx[p] == ' ') p++;
            size_t v = 0;
            while (p < have && rx[p] >= '0' && rx[p] <= '9') v = v * 10 + (size_t)(rx[p++] - '0');
            if (p == have) break; /* the value may go on */
            body = v;
        }
        if (head && have >= head + body) {
            *len = body;
            return head;
        }
    }
}

#ifndef LAMBDA
static void post(int fd, const char *path_line, size_t path_len, const struct iov *body, int nbody) {
    char head[128];
    static const char cl[] = "Host: scf\r\nContent-Length: ";
    size_t total = 0, n = 0;
    for (int i = 0; i < nbody; i++) total += body[i].len;
    for (size_t i = 0; i < path_len; i++) head[n++] = path_line[i];
    for (size_t i = 0; i < sizeof cl - 1; i++) head[n++] = cl[i];
    n += put_dec(head + n, total);
    head[n++] = '\r', head[n++] = '\n', head[n++] = '\r', head[n++] = '\n';
    struct iov v[4] = {{head, n}};
    for (int i = 0; i < nbody; i++) v[i + 1] = body[i];
    sys3(SYS_writev, fd, (long)v, nbody + 1);
}
#endif

#define LINE(s) s, sizeof s - 1

#ifdef LAMBDA
/* POST /2018-06-01/runtime/invocation/{id}/response, the id a piece of
 * its own. */
static void post_result(int fd, const struct iov *body, int nbody) {
    static const char pre[] = "POST /2018-06-01/runtime/invocation/";
    static const char post_id[] = "/response HTTP/1.1\r\nHost: lambda\r\nContent-Length: ";
    char tail[sizeof post_id + 24];
    size_t total = 0, n = 0;
    for (int i = 0; i < nbody; i++) total += body[i].len;
    for (size_t i = 0; i < sizeof post_id - 1; i++) tail[n++] = post_id[i];
    n += put_dec(tail + n, total);
    tail[n++] = '\r', tail[n++] = '\n', tail[n++] = '\r', tail[n++] = '\n';
    struct iov v[6] = {{pre, sizeof pre - 1}, {rid, rid_len}, {tail, n}};
    for (int i = 0; i < nbody; i++) v[i + 3] = body[i];
    sys3(SYS_writev, fd, (long)v, nbody + 3);
}
#endif

int main(int argc, char **argv, char **envp) {
    (void)argc, (void)argv;
#ifdef LAMBDA
    const char *host = env(envp, "AWS_LAMBDA_RUNTIME_API");
#else
    const char *host = env(envp, "SCF_RUNTIME_API");
    const char *port = env(envp, "SCF_RUNTIME_API_PORT");
#endif

    struct sockaddr_in4 sa = {2 /* AF_INET */, 0, {127, 0, 0, 1}, {0}};
    if (*host >= '0' && *host <= '9')
        for (int i = 0; i < 4; i++, host++) {
            unsigned v = 0;
            while (*host >= '0' && *host <= '9') v = v * 10 + (unsigned)(*host++ - '0');
            sa.addr[i] = (unsigned char)v;
        }
#ifdef LAMBDA
    const char *port = host; /* the loop stepped over the ':' */
#endif
    unsigned p = 0;
    while (*port >= '0' && *port <= '9') p = p * 10 + (unsigned)(*port++ - '0');
    sa.port = (unsigned short)((p >> 8) | ((p & 0xff) << 8));

    int fd = (int)sys3(SYS_socket, 2 /* AF_INET */, 1 /* SOCK_STREAM */, 0);
    sys3(SYS_connect, fd, (long)&sa, sizeof sa);

    size_t len;
#ifdef LAMBDA
    static const char get[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: lambda\r\n\r\n";
#else
    struct iov space = {" ", 1};
    post(fd, LINE("POST /runtime/init/ready HTTP/1.1\r\n"), &space, 1);
    read_response(fd, &len);

    static const char get[] = "GET /runtime/invocation/next HTTP/1.1\r\nHost: scf\r\n\r\n";
#endif
    static const char echo[] = "Echoing request: '";
    for (;;) {
        sys3(SYS_write, fd, (long)get, sizeof get - 1);
        size_t at = read_response(fd, &len);
        struct iov log[2] = {{rx + at, len}, {"\n", 1}};
        sys3(SYS_writev, 2, (long)log, 2);
        struct iov body[3] = {{echo, sizeof echo - 1}, {rx + at, len}, {"'", 1}};
#ifdef LAMBDA
        post_result(fd, body, 3);
#else
        post(fd, LINE("POST /runtime/invocation/response HTTP/1.1\r\n"), body, 3);
#endif
        read_response(fd, &len);
    }
}
