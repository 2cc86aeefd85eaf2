/* Handlers that do things to the process the runtime lives in, for
 * tests/survives.rs: log to a pipe whose reader has gone, close every
 * descriptor they did not open, hold every descriptor, rewrite the
 * environment, block signals, ignore SIGCHLD, start children and threads
 * that outlive the invocation. Each answers (or fails) in a way the test
 * can check; the runtime must go on, or stop with one line.
 *
 * A constructor installs a SIGSEGV handler before main, as a handler's
 * runtime (a garbage collector, a wasm engine; std's own handler is the
 * same kind) would: it handles faults in one page of its own and goes
 * on, and declines any other by setting the default action and
 * returning, as std does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "scf_bootstrap.h"

static int put(scf_writer *out, const char *s) { return scf_write(out, s, strlen(s)); }

/* Writes printf-style text to the response. */
static int putf(scf_writer *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int putf(scf_writer *out, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return scf_write(out, buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* ---- a fault handler of the handler's own, installed before main ---- */

static char *guarded_page;
static volatile sig_atomic_t faults_handled;

static void on_fault(int sig, siginfo_t *info, void *uctx) {
    (void)uctx;
    char *addr = info->si_addr;
    if (guarded_page && addr >= guarded_page && addr < guarded_page + 4096) {
        mprotect(guarded_page, 4096, PROT_READ | PROT_WRITE);
        faults_handled++;
        return;
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
}

__attribute__((constructor)) static void install_fault_handler(void) {
    guarded_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
}

/* Writes to the page the constructor's handler guards: it faults, the
 * handler makes the page writable and the write goes through. Each call
 * guards the page again first. */
static int touches_guarded_page(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    mprotect(guarded_page, 4096, PROT_NONE);
    ((volatile char *)guarded_page)[100] = 'x';
    return putf(out, "faults handled: %d", (int)faults_handled);
}
SCF_HANDLER(touches_guarded_page)

static int null_deref(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    put(out, "{\"partial\":");
    return *(volatile int *)0;
}
SCF_HANDLER(null_deref)

/* ---- logging ---- */

static void *chatter(void *arg) {
    (void)arg;
    for (;;) {
        fprintf(stderr, "chatty thread\n");
        usleep(1000);
    }
    return NULL;
}

/* Logs the event with stdio on stdout and stderr and with a raw write,
 * each result ignored, as most handlers do; the first call also starts a
 * thread that goes on writing to stderr after the handler returned. */
static int logs(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)ctx;
    static int started;
    if (!started) {
        pthread_t t;
        started = pthread_create(&t, NULL, chatter, NULL) == 0;
    }
    printf("stdout: %.*s\n", (int)len, (const char *)event);
    fflush(stdout);
    fprintf(stderr, "stderr: %.*s\n", (int)len, (const char *)event);
    errno = 0;
    ssize_t w = write(2, "raw\n", 4);
    return putf(out, "logged; write returned %d errno %d", (int)w, errno);
}
SCF_HANDLER(logs)

/* ---- descriptors ---- */

static int own_fd = -1;

/* Event `open PATH`: closes every descriptor from 3 up (or from 0 up,
 * with `open-all PATH`), which it did not open, the runtime's connection
 * among them, then opens PATH and writes "A". Event `again`: writes "B"
 * to that file and "B on stdout" to stdout, then closes the file. */
static int closes_descriptors(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)ctx;
    char ev[256];
    snprintf(ev, sizeof ev, "%.*s", (int)len, (const char *)event);
    if (strncmp(ev, "open ", 5) == 0 || strncmp(ev, "open-all ", 9) == 0) {
        int from = ev[4] == ' ' ? 3 : 0;
        const char *path = strchr(ev, ' ') + 1;
        for (int fd = from; fd < 1024; fd++) close(fd);
        own_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ssize_t w = write(own_fd, "A", 1);
        return putf(out, "opened fd %d, wrote %d", own_fd, (int)w);
    }
    ssize_t w = write(own_fd, "B", 1);
    printf("B on stdout\n");
    fflush(stdout);
    int closed = close(own_fd);
    return putf(out, "fd %d: wrote %d, closed %d", own_fd, (int)w, closed);
}
SCF_HANDLER(closes_descriptors)

static void *grabber(void *arg) {
    (void)arg;
    for (;;) {
        if (open("/dev/null", O_RDONLY) < 0) usleep(200);
    }
    return NULL;
}

/* Opens /dev/null until the process has no descriptor left, and keeps
 * them all; with event `forever`, a thread then takes every descriptor
 * that comes free, for good. */
static int holds_descriptors(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)ctx;
    int n = 0;
    while (open("/dev/null", O_RDONLY) >= 0) n++;
    int why = errno;
    if (len == 7 && memcmp(event, "forever", 7) == 0) {
        pthread_t t;
        pthread_create(&t, NULL, grabber, NULL);
    }
    return putf(out, "held %d more, then errno %d", n, why);
}
SCF_HANDLER(holds_descriptors)

/* ---- environment ---- */

/* Reports what the context says, then rewrites the environment the
 * runtime read at start: its API address and port to nowhere, _HANDLER
 * away, 4,000 variables more, and finally clears it all. */
static int rewrites_environment(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len;
    putf(out, "name=%.*s id_len=%zu", (int)ctx->function_name.len, ctx->function_name.ptr, ctx->request_id.len);
    setenv("SCF_RUNTIME_API", "192.0.2.1", 1);
    setenv("SCF_RUNTIME_API_PORT", "1", 1);
    setenv("AWS_LAMBDA_RUNTIME_API", "192.0.2.1:1", 1);
    unsetenv("_HANDLER");
    char name[32];
    for (int i = 0; i < 4000; i++) {
        snprintf(name, sizeof name, "FILLER_%d", i);
        setenv(name, "x", 1);
    }
    clearenv();
    return SCF_OK;
}
SCF_HANDLER(rewrites_environment)

/* ---- signals ---- */

/* Blocks every signal it can, sets SIGCHLD to SIG_IGN (so children are
 * reaped by the kernel and waitpid finds none), runs a child, and leaves
 * it all that way. */
static int changes_signals(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    signal(SIGCHLD, SIG_IGN);
    int status = system("exit 3");
    return putf(out, "system returned %d", status);
}
SCF_HANDLER(changes_signals)

/* ---- children ---- */

/* Runs `exec CMD` (the event) in a shell with popen and answers with its
 * output: what a child inherits (descriptors, signal dispositions). */
static int runs(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)ctx;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "exec %.*s", (int)len, (const char *)event);
    FILE *p = popen(cmd, "r");
    if (!p) return put(out, "popen failed"), SCF_ERROR;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) scf_write(out, buf, n);
    pclose(p);
    return SCF_OK;
}
SCF_HANDLER(runs)

/* Forks a child that does not exec and dereferences NULL; waits for it
 * and answers with how it ended. The child inherits the runtime's signal
 * handler (and the constructor's, which declines the fault): the crash
 * must end the child only, and post nothing on the connection it shares
 * with its parent. */
static int forks_a_crashing_child(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    pid_t pid = fork();
    if (pid == 0) return *(volatile int *)0;
    int status = 0;
    waitpid(pid, &status, 0);
    return putf(out, "child ended by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
SCF_HANDLER(forks_a_crashing_child)

/* ---- threads ---- */

static void *crash_later(void *arg) {
    (void)arg;
    usleep(300 * 1000);
    return (void *)(uintptr_t) * (volatile int *)0;
}

/* Starts a thread that dereferences NULL 300 ms after the handler has
 * returned, while the runtime waits for the next event. */
static int starts_a_crashing_thread(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len; (void)ctx;
    pthread_t t;
    pthread_create(&t, NULL, crash_later, NULL);
    return put(out, "started");
}
SCF_HANDLER(starts_a_crashing_thread)

/* ---- clocks ---- */

/* The context's deadline and time limit, for a test that shifts
 * CLOCK_MONOTONIC: the deadline is on CLOCK_REALTIME. */
static int reports_deadline(const uint8_t *event, size_t len, const scf_context *ctx, scf_writer *out) {
    (void)event; (void)len;
    return putf(out, "deadline=%llu limit=%llu", (unsigned long long)ctx->deadline_ms,
                (unsigned long long)ctx->time_limit_ms);
}
SCF_HANDLER(reports_deadline)
