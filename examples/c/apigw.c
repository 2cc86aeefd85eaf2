/*
 * apigw.c -- an API-gateway function in dependency-free C.
 *
 * SCF's API gateway trigger delivers the HTTP request as a JSON event
 * (`path`, `httpMethod`, `headers`, `queryString`, `body`, ...) and expects
 * the gateway's "integrated response" back:
 *
 *     {"isBase64Encoded":false,"statusCode":200,
 *      "headers":{"Content-Type":"application/json"},"body":"..."}
 *
 * This function answers every request with a JSON document naming the
 * path and the query parameters it received, for example, for
 * GET /hello?name=scf:
 *
 *     body = {"path":"/hello","queryString":{"name":"scf"}}
 *
 * `body` is itself a JSON *string*, so that document goes out escaped a
 * second time. An event that is not a well-formed JSON object, or that has
 * no `path` string, is a bad request: the handler fails with a message
 * saying what is wrong and where, which the runtime posts to SCF's error
 * endpoint.
 *
 * The event is untrusted bytes, neither NUL-terminated nor necessarily
 * JSON. The scanner below checks the whole event against the JSON grammar
 * (RFC 8259, strings as UTF-8), never reads past `event + event_len`, and
 * bounds its recursion, so no input can crash it. It copies nothing: the
 * path and the query object are handed on as the spans of the event where
 * they were found, which are valid JSON text once the scan succeeds.
 *
 * Build and package it:
 *     scripts/package --handler examples/c/apigw.c -o apigw.zip
 * and deploy with the handler setting `index.main_handler`.
 */
#include "scf_bootstrap.h"

/* Objects and arrays nested deeper than this are refused rather than
 * followed; the gateway's events nest three levels. */
#define MAX_DEPTH 64

typedef struct {
    const uint8_t *ptr;
    size_t len;
} span;

typedef struct {
    const uint8_t *start; /* the event, for byte offsets in messages */
    const uint8_t *p;     /* the next byte to read; never past end */
    const uint8_t *end;
    const char *err;      /* the first fault found, or NULL */
    const uint8_t *err_at;
} scanner;

/* What the function needs from the event's top-level object. */
typedef struct {
    span path;  /* raw content between the quotes, escapes kept */
    span query; /* the whole `queryString` object, braces included */
    int has_path, has_query;
} request;

static int fail(scanner *s, const char *what) {
    if (!s->err) {
        s->err = what;
        s->err_at = s->p;
    }
    return 0;
}

static int more(const scanner *s) { return s->p < s->end; }

/* A token other than the one found was needed; at the end of the event,
 * say that instead, as it is the likelier news (a truncated event). */
static int fail_expect(scanner *s, const char *what) {
    return fail(s, more(s) ? what : "unexpected end of the event");
}

static void skip_ws(scanner *s) {
    while (more(s) && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int is_hex(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Length of the well-formed UTF-8 sequence at p (1 to 4), or 0 for an
 * invalid one: a stray continuation byte, an overlong form, a surrogate, a
 * code point past U+10FFFF or a sequence cut off by `end`. */
static size_t utf8_len(const uint8_t *p, const uint8_t *end) {
    uint8_t c = p[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* A string, at its opening quote. On success *out is its raw content. */
static int scan_string(scanner *s, span *out) {
    if (!more(s) || *s->p != '"')
        return fail(s, "expected a string");
    const uint8_t *begin = ++s->p;
    while (more(s)) {
        uint8_t c = *s->p;
        if (c == '"') {
            out->ptr = begin;
            out->len = (size_t)(s->p - begin);
            s->p++;
            return 1;
        }
        if (c < 0x20)
            return fail(s, "control character in a string");
        if (c == '\\') {
            if (s->end - s->p < 2)
                break;
            switch (s->p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                s->p += 2;
                continue;
            case 'u':
                if (s->end - s->p < 6)
                    break;
                for (int i = 2; i < 6; i++)
                    if (!is_hex(s->p[i]))
                        return fail(s, "invalid \\u escape");
                s->p += 6;
                continue;
            default:
                return fail(s, "invalid escape in a string");
            }
            break; /* a \u escape cut off by the end of the event */
        }
        size_t n = utf8_len(s->p, s->end);
        if (n == 0)
            return fail(s, "invalid UTF-8 in a string");
        s->p += n;
    }
    return fail(s, "unterminated string");
}

static int digits(scanner *s) {
    const uint8_t *begin = s->p;
    while (more(s) && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > begin;
}

static int scan_number(scanner *s) {
    if (more(s) && *s->p == '-')
        s->p++;
    if (more(s) && *s->p == '0')
        s->p++;
    else if (!digits(s))
        return fail(s, "invalid number");
    if (more(s) && *s->p == '.') {
        s->p++;
        if (!digits(s))
            return fail(s, "invalid number");
    }
    if (more(s) && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (more(s) && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!digits(s))
            return fail(s, "invalid number");
    }
    return 1;
}

static int scan_literal(scanner *s, const char *word, size_t len) {
    if ((size_t)(s->end - s->p) < len)
        return fail(s, "invalid literal");
    for (size_t i = 0; i < len; i++)
        if (s->p[i] != (uint8_t)word[i])
            return fail(s, "invalid literal");
    s->p += len;
    return 1;
}

static int key_is(span key, const char *name, size_t len) {
    if (key.len != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (key.ptr[i] != (uint8_t)name[i])
            return 0;
    return 1;
}

static int scan_value(scanner *s, int depth);

/* An object, at its `{`. With `req`, the members the function needs are
 * recorded; member names are compared as written (the gateway does not
 * escape plain ASCII names), and the first of duplicate members counts. */
static int scan_object(scanner *s, int depth, request *req) {
    if (depth > MAX_DEPTH)
        return fail(s, "nested too deeply");
    s->p++;
    skip_ws(s);
    if (more(s) && *s->p == '}') {
        s->p++;
        return 1;
    }
    for (;;) {
        span key;
        skip_ws(s);
        if (!more(s) || *s->p != '"')
            return fail_expect(s, "expected a member name");
        if (!scan_string(s, &key))
            return 0;
        skip_ws(s);
        if (!more(s) || *s->p != ':')
            return fail_expect(s, "expected ':'");
        s->p++;
        skip_ws(s);
        if (req && !req->has_path && key_is(key, "path", 4)) {
            if (!more(s) || *s->p != '"')
                return fail(s, "\"path\" is not a string");
            if (!scan_string(s, &req->path))
                return 0;
            req->has_path = 1;
        } else if (req && !req->has_query && key_is(key, "queryString", 11)) {
            const uint8_t *begin = s->p;
            if (!more(s) || *s->p != '{')
                return fail(s, "\"queryString\" is not an object");
            if (!scan_object(s, depth + 1, NULL))
                return 0;
            req->query.ptr = begin;
            req->query.len = (size_t)(s->p - begin);
            req->has_query = 1;
        } else if (!scan_value(s, depth)) {
            return 0;
        }
        skip_ws(s);
        if (more(s) && *s->p == ',') {
            s->p++;
            continue;
        }
        if (more(s) && *s->p == '}') {
            s->p++;
            return 1;
        }
        return fail_expect(s, "expected ',' or '}'");
    }
}

static int scan_array(scanner *s, int depth) {
    if (depth > MAX_DEPTH)
        return fail(s, "nested too deeply");
    s->p++;
    skip_ws(s);
    if (more(s) && *s->p == ']') {
        s->p++;
        return 1;
    }
    for (;;) {
        if (!scan_value(s, depth))
            return 0;
        skip_ws(s);
        if (more(s) && *s->p == ',') {
            s->p++;
            continue;
        }
        if (more(s) && *s->p == ']') {
            s->p++;
            return 1;
        }
        return fail_expect(s, "expected ',' or ']'");
    }
}

/* Any value, after optional whitespace. `depth` is that of the enclosing
 * container. */
static int scan_value(scanner *s, int depth) {
    span ignored;
    skip_ws(s);
    if (!more(s))
        return fail(s, "unexpected end of the event");
    switch (*s->p) {
    case '{': return scan_object(s, depth + 1, NULL);
    case '[': return scan_array(s, depth + 1);
    case '"': return scan_string(s, &ignored);
    case 't': return scan_literal(s, "true", 4);
    case 'f': return scan_literal(s, "false", 5);
    case 'n': return scan_literal(s, "null", 4);
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return scan_number(s);
        return fail(s, "unexpected character");
    }
}

/* The response is written piece by piece straight into the runtime's
 * buffer; the first failed write (only possible past SCF's 6 MB response
 * limit) is remembered and turns the rest into no-ops. */
typedef struct {
    scf_writer *out;
    int rc;
} sink;

static void put(sink *k, const void *data, size_t len) {
    if (k->rc == SCF_OK)
        k->rc = scf_write(k->out, data, len);
}

static void put_str(sink *k, const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    put(k, s, n);
}

/* Appends JSON text as the content of a JSON string. The text is valid
 * JSON (the scan made sure), so besides quotes and backslashes only the
 * whitespace allowed between tokens can need escaping. */
static void put_escaped(sink *k, const void *data, size_t len) {
    const uint8_t *p = data;
    size_t run = 0; /* start of the bytes not yet written */
    for (size_t i = 0; i < len; i++) {
        char esc[6] = {'\\', 0, '0', '0', 0, 0};
        size_t n = 2;
        switch (p[i]) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (p[i] >= 0x20)
                continue;
            esc[1] = 'u';
            esc[4] = "0123456789abcdef"[p[i] >> 4];
            esc[5] = "0123456789abcdef"[p[i] & 15];
            n = 6;
        }
        put(k, p + run, i - run);
        put(k, esc, n);
        run = i + 1;
    }
    put(k, p + run, len - run);
}

static void put_uint(sink *k, size_t v) {
    char buf[20];
    size_t i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(k, buf + i, sizeof buf - i);
}

static int main_handler(const uint8_t *event, size_t event_len,
                        const scf_context *ctx, scf_writer *out) {
    (void)ctx;
    /* `event` is NULL when the event is empty; point at something real so
     * that the pointer arithmetic below stays defined. */
    const uint8_t *base = event_len ? event : (const uint8_t *)"";
    scanner s = {base, base, base + event_len, 0, 0};
    request req = {{0, 0}, {0, 0}, 0, 0};
    sink k = {out, SCF_OK};

    skip_ws(&s);
    if (!more(&s) || *s.p != '{')
        fail(&s, "the event is not a JSON object");
    else if (scan_object(&s, 1, &req)) {
        skip_ws(&s);
        if (more(&s))
            fail(&s, "data after the JSON object");
    }
    if (s.err || !req.has_path) {
        put_str(&k, "bad request: ");
        if (s.err) {
            put_str(&k, s.err);
            put_str(&k, " at byte ");
            put_uint(&k, (size_t)(s.err_at - s.start));
        } else {
            put_str(&k, "the event has no \"path\" member");
        }
        return SCF_ERROR;
    }

    put_str(&k, "{\"isBase64Encoded\":false,\"statusCode\":200,"
                "\"headers\":{\"Content-Type\":\"application/json\"},\"body\":\"");
    put_escaped(&k, "{\"path\":\"", 9);
    put_escaped(&k, req.path.ptr, req.path.len);
    put_escaped(&k, "\",\"queryString\":", 16);
    if (req.has_query)
        put_escaped(&k, req.query.ptr, req.query.len);
    else
        put_escaped(&k, "{}", 2);
    put_escaped(&k, "}", 1);
    put_str(&k, "\"}");
    if (k.rc != SCF_OK) {
        scf_writer_reset(out);
        put_str(&(sink){out, SCF_OK}, "the response exceeds SCF's 6 MB limit");
        return k.rc;
    }
    return SCF_OK;
}
SCF_HANDLER(main_handler)
