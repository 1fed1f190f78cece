
/*
 * Copyright (C) ngx_mcp_module authors
 */


/*
 * Unit tests of the module's request-free protocol core
 * (ngx_http_mcp_jsonrpc.c, ngx_http_mcp_protocol.c, ngx_http_mcp_jwt.c),
 * in TAP.  The exit status is non-zero when a test fails; a "# TODO" test
 * is a known defect of the core and does not fail the run.
 *
 * References in test names:
 *   JSON-RPC      JSON-RPC 2.0 specification, sections 4 (request),
 *                 4.1 (notification), 4.2 (parameters), 5 (response),
 *                 5.1 (error object)
 *   basic         MCP basic protocol (basic/index: requests, responses,
 *                 notifications), revisions 2025-06-18 and 2025-11-25
 *   lifecycle     MCP lifecycle, version negotiation
 *   pagination    MCP utilities/pagination
 *   tools         MCP server/tools (listing, calling, tool result,
 *                 structured content, output schema, error handling)
 *   RFC 8259      JSON; RFC 3629 UTF-8; RFC 4648 base64url;
 *   Unicode 3.9   Unicode Standard section 3.9, table 3-7 (well-formed
 *                 byte sequences) and U+FFFD substitution
 *   JSON Schema   JSON Schema 2020-12 core and validation
 *   RFC 7515      JWS (compact serialization, crit); RFC 7517 JWK;
 *   RFC 7518      JWA (HS256, ES256 key sizes); RFC 7519 JWT;
 *   RFC 9068      JWT access tokens (typ, required claims, scope)
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include "ngx_http_mcp_jsonrpc.h"
#include "ngx_http_mcp_protocol.h"
#include "ngx_http_mcp_jwt.h"
#include "ngx_http_mcp_token.h"
#include "ngx_runtime.h"
#include <openssl/hmac.h>


#define FFFD  "\xef\xbf\xbd"


static ngx_uint_t   tests;
static ngx_uint_t   failures;
static const char  *todo;
static ngx_pool_t  *pool;


/* TAP */

static void
diag(const char *fmt, ...)
{
    va_list  args;

    printf("# ");
    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);
    printf("\n");
}


static ngx_int_t
check(ngx_int_t cond, const char *fmt, ...)
{
    va_list  args;

    tests++;

    printf("%sok %u - ", cond ? "" : "not ", (unsigned) tests);

    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);

    if (todo) {
        printf(" # TODO %s", todo);
    }

    printf("\n");

    if (!cond && todo == NULL) {
        failures++;
    }

    return cond;
}


/* JSON helpers */

static json_t *
J(const char *text)
{
    json_t        *json;
    json_error_t   err;

    json = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

    if (json == NULL) {
        fprintf(stderr, "core_test: bad JSON in a test: %s: %s\n",
                text, err.text);
        exit(2);
    }

    return json;
}


static void
diag_json(const char *what, json_t *json)
{
    char  *s;

    if (json == NULL) {
        diag("%s: NULL", what);
        return;
    }

    s = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    diag("%s: %s", what, s ? s : "(cannot be dumped)");
    free(s);
}


/* compares with the JSON text want; takes the reference to got */

static ngx_int_t
is_json(json_t *got, const char *want, const char *name)
{
    json_t     *w;
    ngx_int_t   rc;

    w = J(want);

    rc = check(got != NULL && json_equal(got, w), "%s", name);

    if (!rc) {
        diag_json("got", got);
        diag_json("expected", w);
    }

    json_decref(w);
    json_decref(got);

    return rc;
}


static ngx_int_t
is_str(const char *got, const char *want, const char *name)
{
    ngx_int_t  rc;

    rc = check(got != NULL && strcmp(got, want) == 0, "%s", name);

    if (!rc) {
        diag("got:      %s", got ? got : "NULL");
        diag("expected: %s", want);
    }

    return rc;
}


static ngx_int_t
is_int(long long got, long long want, const char *name)
{
    ngx_int_t  rc;

    rc = check(got == want, "%s", name);

    if (!rc) {
        diag("got %lld, expected %lld", got, want);
    }

    return rc;
}


/* a JSON string of exactly these bytes; takes the reference to got */

static ngx_int_t
is_bytes(json_t *got, const char *want, size_t len, const char *name)
{
    size_t      i;
    ngx_int_t   rc;
    const char  *s;

    rc = check(json_is_string(got)
               && json_string_length(got) == len
               && memcmp(json_string_value(got), want, len) == 0,
               "%s", name);

    if (!rc) {
        if (!json_is_string(got)) {
            diag("got no string");

        } else {
            s = json_string_value(got);
            printf("# got:     ");
            for (i = 0; i < json_string_length(got); i++) {
                printf(" %02x", (u_char) s[i]);
            }
            printf("\n# expected:");
            for (i = 0; i < len; i++) {
                printf(" %02x", (u_char) want[i]);
            }
            printf("\n");
        }
    }

    json_decref(got);

    return rc;
}


/* the text of a C string is valid UTF-8 and fits an error buffer */

static ngx_int_t
is_error_text(char *err, const char *name)
{
    u_char     *nul;
    json_t     *s;
    ngx_int_t   rc;

    nul = memchr(err, '\0', NGX_HTTP_MCP_ERRLEN);
    s = nul ? json_stringn(err, nul - (u_char *) err) : NULL;

    rc = check(s != NULL, "%s", name);

    if (!rc) {
        diag(nul ? "the text is not valid UTF-8"
                 : "the text has no NUL within NGX_HTTP_MCP_ERRLEN");
    }

    json_decref(s);

    return rc;
}


static void
clear_err(char *err)
{
    memset(err, 'X', NGX_HTTP_MCP_ERRLEN);
}


/* the tools the listing and calling tests use */

static ngx_http_mcp_tool_t *
add_tool(ngx_array_t *tools, const char *name, const char *title,
    const char *description, const char *input, const char *output)
{
    ngx_http_mcp_tool_t  *tool;

    tool = ngx_array_push(tools);
    if (tool == NULL) {
        exit(2);
    }

    ngx_memzero(tool, sizeof(ngx_http_mcp_tool_t));

    tool->name.data = (u_char *) name;
    tool->name.len = strlen(name);

    if (title) {
        tool->title.data = (u_char *) title;
        tool->title.len = strlen(title);
    }

    if (description) {
        tool->description.data = (u_char *) description;
        tool->description.len = strlen(description);
    }

    tool->input_schema = input ? J(input) : NULL;
    tool->output_schema = output ? J(output) : NULL;

    return tool;
}


static void
free_tools(ngx_array_t *tools)
{
    ngx_uint_t            i;
    ngx_http_mcp_tool_t  *tool;

    tool = tools->elts;

    for (i = 0; i < tools->nelts; i++) {
        json_decref(tool[i].input_schema);
        json_decref(tool[i].output_schema);
    }
}


/* ngx_http_mcp_json_depth, ngx_http_mcp_json_parse */

static void
test_depth(void)
{
    u_char  *s;

#define depth(text, max)                                                    \
    ngx_http_mcp_json_depth((u_char *) text, sizeof(text) - 1, max)

    is_int(depth("{\"a\":[1]}", 2), NGX_OK,
           "depth: two levels are within a limit of 2");
    is_int(depth("{\"a\":[1]}", 1), NGX_DECLINED,
           "depth: two levels are over a limit of 1");
    is_int(depth("[[[[]]]]", 4), NGX_OK,
           "depth: exactly at the limit is accepted");
    is_int(depth("[[[[[]]]]]", 4), NGX_DECLINED,
           "depth: one level over the limit is declined");
    is_int(depth("{\"a\":\"[[[[{{{{\"}", 1), NGX_OK,
           "depth: brackets inside a string do not count");
    is_int(depth("{\"a\":\"\\\"[[[[\"}", 1), NGX_OK,
           "depth: an escaped quote does not end the string");
    is_int(depth("{\"a\":\"\\\\\",\"b\":[[1]]}", 2), NGX_DECLINED,
           "depth: an escaped backslash ends before the quote "
           "(3 levels over 2)");
    is_int(depth("{\"a\":\"\\\\\",\"b\":[[1]]}", 3), NGX_OK,
           "depth: an escaped backslash ends before the quote "
           "(3 levels within 3)");
    is_int(depth("[][][][][]", 1), NGX_OK,
           "depth: siblings do not add up");
    is_int(depth("]]]]]]][", 1), NGX_OK,
           "depth: stray closing brackets do not go below zero");
    is_int(depth("\"[[[[", 1), NGX_OK,
           "depth: an unterminated string hides what follows");
    is_int(depth("42", 0), NGX_OK,
           "depth: a scalar has no depth");
    is_int(depth("{}", 0), NGX_DECLINED,
           "depth: an object is one level");
    is_int(depth("\"abc\\", 1), NGX_OK,
           "depth: a backslash as the last byte stays in bounds");

#undef depth

    /* 10,000 levels: the scan declines without recursion */

    s = ngx_pnalloc(pool, 20000);
    if (s == NULL) {
        exit(2);
    }

    ngx_memset(s, '[', 10000);
    ngx_memset(s + 10000, ']', 10000);

    is_int(ngx_http_mcp_json_depth(s, 20000, 64), NGX_DECLINED,
           "depth: 10000 levels are declined at a limit of 64");
}


static void
test_parse(void)
{
    json_t  *json;
    char     err[NGX_HTTP_MCP_ERRLEN];

#define parse(text, max)                                                    \
    ngx_http_mcp_json_parse((u_char *) text, sizeof(text) - 1, max, err)

    clear_err(err);
    json = parse("[[[1]]]", 2);
    check(json == NULL, "parse: nesting over the limit is an error");
    is_str(err, "JSON nested deeper than 2 levels",
           "parse: the depth error says the limit");
    json_decref(json);

    json = parse("[[[1]]]", 3);
    is_json(json, "[[[1]]]", "parse: nesting at the limit parses");

    clear_err(err);
    json = parse("{\"jsonrpc\":\"2.0\",\"id\":1", 64);
    check(json == NULL,
          "parse: truncated JSON is an error (JSON-RPC 5.1 -32700)");
    check(strstr(err, "line 1") != NULL,
          "parse: the error of truncated JSON says where");
    is_error_text(err, "parse: the error of truncated JSON is a UTF-8 "
                  "C string within NGX_HTTP_MCP_ERRLEN");
    json_decref(json);

    clear_err(err);
    json = parse("{\"a\":\"\xff\"}", 64);
    check(json == NULL, "parse: invalid UTF-8 is an error (RFC 8259 8.1)");
    is_error_text(err, "parse: the error of invalid UTF-8 is valid UTF-8");
    json_decref(json);

    clear_err(err);
    json = parse("{\"a\":\"\xc3\"}", 64);
    check(json == NULL, "parse: a truncated UTF-8 sequence is an error");
    is_error_text(err, "parse: the error of a truncated sequence is "
                  "valid UTF-8");
    json_decref(json);

    clear_err(err);
    json = parse("{\"a\":\"\\u0\xc8\x9a\"}", 64);
    check(json == NULL, "parse: a bad \\u escape before a two-byte "
          "character is an error");

    check(memchr(err, '\0', NGX_HTTP_MCP_ERRLEN) != NULL,
          "parse: its error text is a C string");
    json_decref(json);

    /* jansson quotes the input up to the error: here half a character */

    json = ngx_http_mcp_error(NULL, NGX_HTTP_MCP_PARSE_ERROR, err);
    check(json_is_string(json_object_get(json_object_get(json, "error"),
                                         "message")),
          "parse: a -32700 error response is built from that text "
          "(JSON-RPC 5.1)");
    json_decref(json);

    clear_err(err);
    json = parse("{\"a\":\"\xed\xa0\x80\"}", 64);
    check(json == NULL, "parse: an encoded surrogate is an error "
          "(RFC 3629 3)");
    json_decref(json);

    clear_err(err);
    json = parse("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", 64);
    is_json(json, "{\"a\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}",
            "parse: two-, three- and four-byte UTF-8 parse");

    json = parse("{\"a\":\"x\\u0000y\"}", 64);
    check(json != NULL
          && json_string_length(json_object_get(json, "a")) == 3
          && memcmp(json_string_value(json_object_get(json, "a")),
                    "x\0y", 3) == 0,
          "parse: \\u0000 in a string is allowed (RFC 8259 7)");
    json_decref(json);

    json = parse("42", 64);
    check(json_is_integer(json) && json_integer_value(json) == 42,
          "parse: a bare number is a JSON text (RFC 8259 2)");
    json_decref(json);

    json = parse("\"s\"", 64);
    check(json_is_string(json), "parse: a bare string is a JSON text");
    json_decref(json);

    json = parse("null", 64);
    check(json_is_null(json), "parse: a bare null is a JSON text");
    json_decref(json);

    json = parse(" \t\r\n true \n", 64);
    check(json_is_true(json), "parse: whitespace around a value is allowed");
    json_decref(json);

    clear_err(err);
    json = parse("", 64);
    check(json == NULL, "parse: empty input is an error");
    is_error_text(err, "parse: the error of empty input is a C string");
    json_decref(json);

    clear_err(err);
    json = parse("{} {}", 64);
    check(json == NULL, "parse: two JSON texts are an error");
    json_decref(json);

    clear_err(err);
    json = parse("{\"a\":01}", 64);
    check(json == NULL, "parse: a leading zero is an error (RFC 8259 6)");
    json_decref(json);

    clear_err(err);
    json = parse("{'a':1}", 64);
    check(json == NULL, "parse: single quotes are an error");
    json_decref(json);

    clear_err(err);
    json = parse("{\"a\":\"\x01\"}", 64);
    check(json == NULL, "parse: a raw control character in a string is an "
          "error (RFC 8259 7)");
    is_error_text(err, "parse: the error of a control character is a "
                  "C string");
    json_decref(json);

    clear_err(err);
    json = parse("[\"\\ud800\"]", 64);
    check(json == NULL, "parse: an escaped lone surrogate is an error");
    json_decref(json);

    clear_err(err);
    json = parse("{\"a\":1,}", 64);
    check(json == NULL, "parse: a trailing comma is an error");
    json_decref(json);

#undef parse
}


/* ngx_http_mcp_msg_classify, ngx_http_mcp_method_is */

static void
classify_is(const char *text, ngx_http_mcp_msg_kind_e kind,
    const char *error, const char *name)
{
    json_t              *json;
    ngx_int_t            ok;
    ngx_http_mcp_msg_t   msg;

    static const char   *kinds[] = {
        "request", "notification", "response", "invalid"
    };

    json = J(text);

    ngx_http_mcp_msg_classify(json, &msg);

    ok = msg.kind == kind
         && msg.json == json
         && ((error == NULL && msg.error == NULL)
             || (error && msg.error && strcmp(msg.error, error) == 0));

    if (!check(ok, "%s", name)) {
        diag("message:  %s", text);
        diag("got:      %s \"%s\"", kinds[msg.kind],
             msg.error ? msg.error : "");
        diag("expected: %s \"%s\"", kinds[kind], error ? error : "");
    }

    json_decref(json);
}


static void
test_classify(void)
{
    size_t               n;
    json_t              *json;
    ngx_http_mcp_msg_t   msg;
    char                 text[NGX_HTTP_MCP_ID_MAX + 64];

    static const char   *bad_id = "\"id\" must be a string or an integer";
    static const char   *bad_version = "\"jsonrpc\" must be \"2.0\"";
    static const char   *bad_method = "\"method\" must be a string";
    static const char   *bad_params = "\"params\" must be an object";
    static const char   *not_object = "message is not a JSON object";
    static const char   *neither = "message is neither a request, "
                                   "a notification nor a response";

    json = J("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\","
             "\"params\":{\"cursor\":\"c\"}}");
    ngx_http_mcp_msg_classify(json, &msg);
    check(msg.kind == NGX_HTTP_MCP_MSG_REQUEST
          && json_integer_value(msg.id) == 7
          && msg.method.len == 10
          && ngx_strncmp(msg.method.data, "tools/list", 10) == 0
          && msg.params == json_object_get(json, "params")
          && msg.error == NULL,
          "classify: a request has its id, method and params (JSON-RPC 4)");
    check(ngx_http_mcp_method_is(&msg, "tools/list"),
          "method_is: the same name matches");
    check(!ngx_http_mcp_method_is(&msg, "tools/lis")
          && !ngx_http_mcp_method_is(&msg, "tools/listx")
          && !ngx_http_mcp_method_is(&msg, "TOOLS/LIST"),
          "method_is: a prefix, a longer name or another case do not");
    json_decref(json);

    json = J("{\"jsonrpc\":\"2.0\",\"id\":\"a-1\",\"method\":\"ping\"}");
    ngx_http_mcp_msg_classify(json, &msg);
    check(msg.kind == NGX_HTTP_MCP_MSG_REQUEST
          && json_is_string(msg.id) && msg.params == NULL,
          "classify: a string id is a request id (basic: string or "
          "integer)");
    json_decref(json);

    json = J("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\\u0000x\"}");
    ngx_http_mcp_msg_classify(json, &msg);
    check(msg.kind == NGX_HTTP_MCP_MSG_REQUEST && msg.method.len == 6
          && !ngx_http_mcp_method_is(&msg, "ping"),
          "classify: a method with \\u0000 keeps its length and is not "
          "its prefix");
    json_decref(json);

    classify_is("{\"jsonrpc\":\"2.0\",\"id\":-5,\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_REQUEST, NULL,
                "classify: a negative integer id is a request id");
    classify_is("{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_REQUEST, NULL,
                "classify: an empty string id is a request id");
    classify_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\","
                "\"params\":[1]}",
                NGX_HTTP_MCP_MSG_REQUEST, NULL,
                "classify: array params are structured (JSON-RPC 4.2); "
                "the dispatcher rejects them as MCP params");

    json = J("{\"jsonrpc\":\"2.0\",\"method\":"
             "\"notifications/initialized\"}");
    ngx_http_mcp_msg_classify(json, &msg);
    check(msg.kind == NGX_HTTP_MCP_MSG_NOTIFICATION && msg.id == NULL
          && ngx_http_mcp_method_is(&msg, "notifications/initialized"),
          "classify: a method without an id is a notification "
          "(JSON-RPC 4.1, basic)");
    json_decref(json);

    classify_is("{\"jsonrpc\":\"2.0\",\"method\":\"n\",\"params\":{}}",
                NGX_HTTP_MCP_MSG_NOTIFICATION, NULL,
                "classify: a notification may have params");

    json = J("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}");
    ngx_http_mcp_msg_classify(json, &msg);
    check(msg.kind == NGX_HTTP_MCP_MSG_RESPONSE
          && json_integer_value(msg.id) == 3 && msg.method.len == 0,
          "classify: an id with a result is a response (JSON-RPC 5)");
    json_decref(json);

    classify_is("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":"
                "{\"code\":-32601,\"message\":\"m\"}}",
                NGX_HTTP_MCP_MSG_RESPONSE, NULL,
                "classify: an id with an error object is a response");

    /* not objects */

    classify_is("[]", NGX_HTTP_MCP_MSG_INVALID, not_object,
                "classify: an array is not a message");
    classify_is("1", NGX_HTTP_MCP_MSG_INVALID, not_object,
                "classify: a number is not a message");
    classify_is("\"x\"", NGX_HTTP_MCP_MSG_INVALID, not_object,
                "classify: a string is not a message");
    classify_is("null", NGX_HTTP_MCP_MSG_INVALID, not_object,
                "classify: null is not a message");

    /* ids */

    classify_is("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_id,
                "classify: a null id is invalid (basic: MUST NOT be null)");
    classify_is("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_id,
                "classify: a fractional id is invalid (basic: string or "
                "integer)");
    classify_is("{\"jsonrpc\":\"2.0\",\"id\":1.0,\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_id,
                "classify: 1.0 as an id is invalid (basic: string or "
                "integer)");
    classify_is("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_id,
                "classify: a boolean id is invalid");
    classify_is("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_id,
                "classify: an object id is invalid");
    classify_is("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_id,
                "classify: an array id is invalid");
    classify_is("{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}",
                NGX_HTTP_MCP_MSG_INVALID, bad_id,
                "classify: a response with a null id is invalid");

    ngx_memset(text, 'i', sizeof(text));
    n = ngx_sprintf((u_char *) text, "{\"jsonrpc\":\"2.0\",\"method\":\"m\","
                    "\"id\":\"") - (u_char *) text;
    ngx_memcpy(text + n + NGX_HTTP_MCP_ID_MAX, "\"}", 3);
    classify_is(text, NGX_HTTP_MCP_MSG_REQUEST, NULL,
                "classify: a string id of NGX_HTTP_MCP_ID_MAX bytes is a "
                "request id");

    ngx_memset(text, 'i', sizeof(text));
    ngx_sprintf((u_char *) text, "{\"jsonrpc\":\"2.0\",\"method\":\"m\","
                "\"id\":\"");
    ngx_memcpy(text + n + NGX_HTTP_MCP_ID_MAX + 1, "\"}", 3);
    classify_is(text, NGX_HTTP_MCP_MSG_INVALID,
                "\"id\" is longer than 256 bytes",
                "classify: a longer string id is refused (it travels in "
                "headers and logs)");

    ngx_memset(text, 'm', sizeof(text));
    n = ngx_sprintf((u_char *) text, "{\"jsonrpc\":\"2.0\",\"id\":1,"
                    "\"method\":\"") - (u_char *) text;
    ngx_memcpy(text + n + NGX_HTTP_MCP_METHOD_MAX, "\"}", 3);
    classify_is(text, NGX_HTTP_MCP_MSG_REQUEST, NULL,
                "classify: a method of NGX_HTTP_MCP_METHOD_MAX bytes is "
                "taken");

    ngx_memset(text, 'm', sizeof(text));
    ngx_sprintf((u_char *) text, "{\"jsonrpc\":\"2.0\",\"id\":1,"
                "\"method\":\"");
    ngx_memcpy(text + n + NGX_HTTP_MCP_METHOD_MAX + 1, "\"}", 3);
    classify_is(text, NGX_HTTP_MCP_MSG_INVALID,
                "\"method\" is longer than 256 bytes",
                "classify: a longer method is refused (it travels in logs "
                "and variables)");

    json = J("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}");
    ngx_http_mcp_msg_classify(json, &msg);
    check(msg.id == NULL,
          "classify: a bad id is not kept for the error response "
          "(JSON-RPC 5: id null)");
    json_decref(json);

    /* jsonrpc */

    classify_is("{\"id\":1,\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_version,
                "classify: a missing \"jsonrpc\" is invalid (JSON-RPC 4: "
                "MUST be exactly \"2.0\")");
    classify_is("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_version,
                "classify: \"jsonrpc\":\"1.0\" is invalid");
    classify_is("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_version,
                "classify: \"jsonrpc\" as the number 2.0 is invalid");
    classify_is("{\"jsonrpc\":\"2.0 \",\"id\":1,\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_version,
                "classify: \"2.0 \" with a space is invalid");
    classify_is("{\"jsonrpc\":\"2\",\"id\":1,\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_version,
                "classify: \"2\" is invalid");
    classify_is("{\"jsonrpc\":null,\"method\":\"n\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_version,
                "classify: a null \"jsonrpc\" is invalid");

    classify_is("{\"jsonrpc\":\"2.0\\u0000x\",\"id\":1,\"method\":\"ping\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_version,
                "classify: \"2.0\\u0000x\" is not exactly \"2.0\" "
                "(JSON-RPC 4)");

    /* method */

    classify_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":1}",
                NGX_HTTP_MCP_MSG_INVALID, bad_method,
                "classify: a numeric method is invalid (JSON-RPC 4: "
                "method is a String)");
    classify_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":null}",
                NGX_HTTP_MCP_MSG_INVALID, bad_method,
                "classify: a null method is invalid");
    classify_is("{\"jsonrpc\":\"2.0\",\"method\":[\"ping\"]}",
                NGX_HTTP_MCP_MSG_INVALID, bad_method,
                "classify: an array method is invalid");

    /* params */

    classify_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\","
                "\"params\":1}",
                NGX_HTTP_MCP_MSG_INVALID, bad_params,
                "classify: numeric params are invalid (JSON-RPC 4.2: "
                "structured value)");
    classify_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\","
                "\"params\":\"a\"}",
                NGX_HTTP_MCP_MSG_INVALID, bad_params,
                "classify: string params are invalid");
    classify_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\","
                "\"params\":null}",
                NGX_HTTP_MCP_MSG_INVALID, bad_params,
                "classify: null params are invalid");
    classify_is("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":true}",
                NGX_HTTP_MCP_MSG_INVALID, bad_params,
                "classify: boolean params of a notification are invalid");

    /* responses */

    classify_is("{\"jsonrpc\":\"2.0\",\"id\":1}",
                NGX_HTTP_MCP_MSG_INVALID, neither,
                "classify: an id without result or error is invalid "
                "(basic: either a result or an error MUST be set)");
    classify_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},"
                "\"error\":{\"code\":1,\"message\":\"m\"}}",
                NGX_HTTP_MCP_MSG_INVALID, neither,
                "classify: a result and an error object together are "
                "invalid (basic: MUST NOT set both)");
    classify_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"m\"}",
                NGX_HTTP_MCP_MSG_INVALID, neither,
                "classify: an error that is not an object is invalid "
                "(JSON-RPC 5.1)");
    classify_is("{\"jsonrpc\":\"2.0\",\"result\":{}}",
                NGX_HTTP_MCP_MSG_INVALID, neither,
                "classify: a result without an id is invalid "
                "(JSON-RPC 5: id is REQUIRED)");
    classify_is("{\"jsonrpc\":\"2.0\"}",
                NGX_HTTP_MCP_MSG_INVALID, neither,
                "classify: an object with nothing but \"jsonrpc\" is "
                "invalid");

    classify_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},"
                "\"error\":\"m\"}",
                NGX_HTTP_MCP_MSG_INVALID, neither,
                "classify: a result with an error member of another type "
                "is invalid (basic: MUST NOT set both)");
}


/* ngx_http_mcp_response, ngx_http_mcp_error */

static void
test_responses(void)
{
    json_t  *id, *sid, *res;

    id = J("7");

    is_json(ngx_http_mcp_response(id, J("{\"a\":1}")),
            "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"a\":1}}",
            "response: jsonrpc, the request's id and the result "
            "(JSON-RPC 5)");

    check(id->refcount == 1,
          "response: the id stays the request's (a reference is taken "
          "and given back)");

    res = json_object();
    is_json(ngx_http_mcp_response(NULL, res),
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}",
            "response: no id gives id null");

    check(ngx_http_mcp_response(id, NULL) == NULL,
          "response: no result gives no response");

    sid = J("\"abc\"");
    is_json(ngx_http_mcp_response(sid, J("{}")),
            "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"result\":{}}",
            "response: a string id is echoed as a string (basic: the same "
            "ID as the request)");
    json_decref(sid);

    is_json(ngx_http_mcp_error(id, NGX_HTTP_MCP_METHOD_NOT_FOUND,
                               "Method not found"),
            "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":"
            "{\"code\":-32601,\"message\":\"Method not found\"}}",
            "error: code and message in an error object (JSON-RPC 5.1)");

    is_json(ngx_http_mcp_error(NULL, NGX_HTTP_MCP_PARSE_ERROR,
                               "Parse error"),
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
            "{\"code\":-32700,\"message\":\"Parse error\"}}",
            "error: id null when the id is unknown (JSON-RPC 5)");

    is_json(ngx_http_mcp_error(id, NGX_HTTP_MCP_SESSION_NOT_FOUND, "é"),
            "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":"
            "{\"code\":-32001,\"message\":\"\\u00e9\"}}",
            "error: a UTF-8 message is kept");

    is_json(ngx_http_mcp_error(id, NGX_HTTP_MCP_INVALID_PARAMS,
                               "caf\xc3"),
            "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":"
            "{\"code\":-32602,\"message\":\"caf?\"}}",
            "error: a message that is not UTF-8 is sent with '?' for its "
            "non-ASCII bytes");

    is_json(ngx_http_mcp_error(id, NGX_HTTP_MCP_INVALID_PARAMS,
                               "\xc3\xa9\xff"),
            "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":"
            "{\"code\":-32602,\"message\":\"???\"}}",
            "error: in such a message whole characters become '?' too");

    check(id->refcount == 1, "error: the id's references are balanced");

    is_int(NGX_HTTP_MCP_PARSE_ERROR, -32700,
           "codes: parse error is -32700 (JSON-RPC 5.1)");
    is_int(NGX_HTTP_MCP_INVALID_REQUEST, -32600,
           "codes: invalid request is -32600");
    is_int(NGX_HTTP_MCP_METHOD_NOT_FOUND, -32601,
           "codes: method not found is -32601");
    is_int(NGX_HTTP_MCP_INVALID_PARAMS, -32602,
           "codes: invalid params is -32602");
    is_int(NGX_HTTP_MCP_INTERNAL_ERROR, -32603,
           "codes: internal error is -32603");

    json_decref(id);
}


/* versions and initialize */

static void
test_versions(void)
{
    u_char   buf[64], *p;
    json_t  *params;

#define vparse(text)  ngx_http_mcp_version_parse((u_char *) text,            \
                                                 sizeof(text) - 1)

    is_int(vparse("2025-03-26"), NGX_HTTP_MCP_V_2025_03_26,
           "version: 2025-03-26 is known");
    is_int(vparse("2025-06-18"), NGX_HTTP_MCP_V_2025_06_18,
           "version: 2025-06-18 is known");
    is_int(vparse("2025-11-25"), NGX_HTTP_MCP_V_2025_11_25,
           "version: 2025-11-25 is known");
    is_int(vparse("2024-11-05"), NGX_HTTP_MCP_V_2024_11_05,
           "version: 2024-11-05 is known (HTTP with SSE clients)");
    is_int(vparse("2024-10-07"), NGX_HTTP_MCP_V_UNKNOWN,
           "version: 2024-10-07 is unknown");
    is_int(vparse("2025-06-1"), NGX_HTTP_MCP_V_UNKNOWN,
           "version: a prefix is unknown");
    is_int(vparse("2025-06-180"), NGX_HTTP_MCP_V_UNKNOWN,
           "version: a longer string is unknown");
    is_int(vparse(""), NGX_HTTP_MCP_V_UNKNOWN,
           "version: an empty string is unknown");
    is_int(NGX_HTTP_MCP_V_LATEST, NGX_HTTP_MCP_V_2025_11_25,
           "version: the latest is 2025-11-25");

#undef vparse

    check(ngx_http_mcp_version_name(NGX_HTTP_MCP_V_2025_06_18)->len == 10
          && ngx_strncmp(ngx_http_mcp_version_name(
                             NGX_HTTP_MCP_V_2025_06_18)->data,
                         "2025-06-18", 10) == 0,
          "version: the name of 2025-06-18");

    p = ngx_http_mcp_versions_text(buf, buf + sizeof(buf),
                                   NGX_HTTP_MCP_V_STREAMABLE);
    *p = '\0';
    is_str((char *) buf, "2025-03-26, 2025-06-18, 2025-11-25",
           "version: the list of versions over Streamable HTTP");

    p = ngx_http_mcp_versions_text(buf, buf + sizeof(buf),
                                   NGX_HTTP_MCP_V_OLDEST);
    *p = '\0';
    is_str((char *) buf, "2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25",
           "version: the list of versions over HTTP with SSE");

    ngx_memset(buf, 'X', sizeof(buf));
    p = ngx_http_mcp_versions_text(buf, buf + 12, NGX_HTTP_MCP_V_STREAMABLE);
    check(p == buf + 12 && buf[12] == 'X',
          "version: the list stops at the end of a short buffer");

#define negotiate(text, want, name)                                         \
    params = J(text);                                                      \
    is_int(ngx_http_mcp_version_negotiate(params,                          \
                                          NGX_HTTP_MCP_V_STREAMABLE),      \
           want, name);                                                    \
    json_decref(params)

    negotiate("{\"protocolVersion\":\"2025-03-26\"}",
              NGX_HTTP_MCP_V_2025_03_26,
              "negotiate: a supported 2025-03-26 is answered with itself "
              "(lifecycle: MUST respond with the same version)");
    negotiate("{\"protocolVersion\":\"2025-06-18\"}",
              NGX_HTTP_MCP_V_2025_06_18,
              "negotiate: 2025-06-18 is answered with itself");
    negotiate("{\"protocolVersion\":\"2025-11-25\"}",
              NGX_HTTP_MCP_V_2025_11_25,
              "negotiate: 2025-11-25 is answered with itself");
    negotiate("{\"protocolVersion\":\"2024-11-05\"}", NGX_HTTP_MCP_V_LATEST,
              "negotiate: 2024-11-05 over Streamable HTTP gets the latest "
              "(lifecycle: SHOULD be the latest)");
    negotiate("{\"protocolVersion\":\"2099-01-01\"}", NGX_HTTP_MCP_V_LATEST,
              "negotiate: a future version gets the latest");
    negotiate("{\"protocolVersion\":20250618}", NGX_HTTP_MCP_V_LATEST,
              "negotiate: a non-string version gets the latest");
    negotiate("{\"protocolVersion\":null}", NGX_HTTP_MCP_V_LATEST,
              "negotiate: a null version gets the latest");
    negotiate("{}", NGX_HTTP_MCP_V_LATEST,
              "negotiate: no version gets the latest");
    negotiate("{\"protocolVersion\":\"2025-06-18\\u0000\"}",
              NGX_HTTP_MCP_V_LATEST,
              "negotiate: a version with a trailing \\u0000 is unknown");

#undef negotiate

    is_int(ngx_http_mcp_version_negotiate(NULL, NGX_HTTP_MCP_V_STREAMABLE),
           NGX_HTTP_MCP_V_LATEST, "negotiate: no params get the latest");

    params = J("{\"protocolVersion\":\"2024-11-05\"}");
    is_int(ngx_http_mcp_version_negotiate(params, NGX_HTTP_MCP_V_OLDEST),
           NGX_HTTP_MCP_V_2024_11_05,
           "negotiate: 2024-11-05 over HTTP with SSE is answered with "
           "itself");
    json_decref(params);
}


static void
test_initialize(void)
{
    ngx_str_t  name = ngx_string("gateway");
    ngx_str_t  ver = ngx_string("1.2.3");
    ngx_str_t  none = ngx_null_string;
    ngx_str_t  instructions = ngx_string("Use the echo tool.");

    is_json(ngx_http_mcp_initialize_result(NGX_HTTP_MCP_V_2025_06_18,
                                           &name, &ver, &none),
            "{\"protocolVersion\":\"2025-06-18\","
            "\"capabilities\":{\"tools\":{\"listChanged\":false}},"
            "\"serverInfo\":{\"name\":\"gateway\",\"version\":\"1.2.3\"}}",
            "initialize: version, tools capability and serverInfo, no "
            "instructions when there are none (lifecycle: initialization)");

    is_json(ngx_http_mcp_initialize_result(NGX_HTTP_MCP_V_2025_11_25,
                                           &name, &ver, &instructions),
            "{\"protocolVersion\":\"2025-11-25\","
            "\"capabilities\":{\"tools\":{\"listChanged\":false}},"
            "\"serverInfo\":{\"name\":\"gateway\",\"version\":\"1.2.3\"},"
            "\"instructions\":\"Use the echo tool.\"}",
            "initialize: instructions when configured");

    is_json(ngx_http_mcp_initialize_result(NGX_HTTP_MCP_V_2025_03_26,
                                           &name, &ver, &none),
            "{\"protocolVersion\":\"2025-03-26\","
            "\"capabilities\":{\"tools\":{\"listChanged\":false}},"
            "\"serverInfo\":{\"name\":\"gateway\",\"version\":\"1.2.3\"}}",
            "initialize: the negotiated 2025-03-26");
}


/* tools/list */

static void
test_tools_list(void)
{
    json_t               *params, *res;
    ngx_array_t          *tools, *four, empty;
    char                  err[NGX_HTTP_MCP_ERRLEN];

    tools = ngx_array_create(pool, 5, sizeof(ngx_http_mcp_tool_t));
    four = ngx_array_create(pool, 4, sizeof(ngx_http_mcp_tool_t));
    if (tools == NULL || four == NULL
        || ngx_array_init(&empty, pool, 1, sizeof(ngx_http_mcp_tool_t))
           != NGX_OK)
    {
        exit(2);
    }

    add_tool(tools, "t0", NULL, NULL, NULL, NULL);
    add_tool(tools, "t1", "Tool One", "The first tool",
             "{\"type\":\"object\",\"properties\":{\"a\":{}}}",
             "{\"type\":\"object\"}");
    add_tool(tools, "t2", NULL, "Two", NULL, NULL);
    add_tool(tools, "t3", NULL, NULL, NULL, NULL);
    add_tool(tools, "t4", NULL, NULL, NULL, NULL);

    add_tool(four, "a", NULL, NULL, NULL, NULL);
    add_tool(four, "b", NULL, NULL, NULL, NULL);
    add_tool(four, "c", NULL, NULL, NULL, NULL);
    add_tool(four, "d", NULL, NULL, NULL, NULL);

#define T0  "{\"name\":\"t0\",\"inputSchema\":{\"type\":\"object\"}}"
#define T1_NEW  "{\"name\":\"t1\",\"title\":\"Tool One\","                  \
    "\"description\":\"The first tool\","                                  \
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"a\":{}}},"     \
    "\"outputSchema\":{\"type\":\"object\"}}"
#define T1_OLD  "{\"name\":\"t1\",\"description\":\"The first tool\","      \
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"a\":{}}}}"
#define T2  "{\"name\":\"t2\",\"description\":\"Two\","                     \
    "\"inputSchema\":{\"type\":\"object\"}}"
#define T3  "{\"name\":\"t3\",\"inputSchema\":{\"type\":\"object\"}}"
#define T4  "{\"name\":\"t4\",\"inputSchema\":{\"type\":\"object\"}}"

    is_json(ngx_http_mcp_tools_list(pool, tools, NULL, 0,
                                    NGX_HTTP_MCP_V_2025_06_18, err),
            "{\"tools\":[" T0 "," T1_NEW "," T2 "," T3 "," T4 "]}",
            "tools/list: page size 0 lists every tool, no nextCursor; "
            "inputSchema always present (tools: listing-tools)");

    is_json(ngx_http_mcp_tools_list(pool, tools, NULL, 0,
                                    NGX_HTTP_MCP_V_2025_03_26, err),
            "{\"tools\":[" T0 "," T1_OLD "," T2 "," T3 "," T4 "]}",
            "tools/list: no title nor outputSchema for 2025-03-26 "
            "(both came with 2025-06-18)");

    is_json(ngx_http_mcp_tools_list(pool, tools, NULL, 2,
                                    NGX_HTTP_MCP_V_2025_11_25, err),
            "{\"tools\":[" T0 "," T1_NEW "],\"nextCursor\":\"dG9vbHM6Mg\"}",
            "tools/list: the first page of 2 and a nextCursor "
            "(pagination: response-format)");

    params = J("{\"cursor\":\"dG9vbHM6Mg\"}");
    is_json(ngx_http_mcp_tools_list(pool, tools, params, 2,
                                    NGX_HTTP_MCP_V_2025_11_25, err),
            "{\"tools\":[" T2 "," T3 "],\"nextCursor\":\"dG9vbHM6NA\"}",
            "tools/list: the cursor round-trips to the second page");
    json_decref(params);

    params = J("{\"cursor\":\"dG9vbHM6NA\"}");
    is_json(ngx_http_mcp_tools_list(pool, tools, params, 2,
                                    NGX_HTTP_MCP_V_2025_11_25, err),
            "{\"tools\":[" T4 "]}",
            "tools/list: the last page has no nextCursor "
            "(pagination: end of results)");
    json_decref(params);

    is_json(ngx_http_mcp_tools_list(pool, tools, NULL, 5,
                                    NGX_HTTP_MCP_V_2025_11_25, err),
            "{\"tools\":[" T0 "," T1_NEW "," T2 "," T3 "," T4 "]}",
            "tools/list: a page exactly the size of the list has no "
            "nextCursor");

    is_json(ngx_http_mcp_tools_list(pool, tools, NULL, 6,
                                    NGX_HTTP_MCP_V_2025_11_25, err),
            "{\"tools\":[" T0 "," T1_NEW "," T2 "," T3 "," T4 "]}",
            "tools/list: a page larger than the list has no nextCursor");

    is_json(ngx_http_mcp_tools_list(pool, four, NULL, 2,
                                    NGX_HTTP_MCP_V_2025_11_25, err),
            "{\"tools\":[{\"name\":\"a\",\"inputSchema\":{\"type\":"
            "\"object\"}},{\"name\":\"b\",\"inputSchema\":{\"type\":"
            "\"object\"}}],\"nextCursor\":\"dG9vbHM6Mg\"}",
            "tools/list: 4 tools by 2, first page");

    params = J("{\"cursor\":\"dG9vbHM6Mg\"}");
    is_json(ngx_http_mcp_tools_list(pool, four, params, 2,
                                    NGX_HTTP_MCP_V_2025_11_25, err),
            "{\"tools\":[{\"name\":\"c\",\"inputSchema\":{\"type\":"
            "\"object\"}},{\"name\":\"d\",\"inputSchema\":{\"type\":"
            "\"object\"}}]}",
            "tools/list: 4 tools by 2, the second page ends the list "
            "without a nextCursor (exact multiple)");
    json_decref(params);

    params = J("{\"cursor\":\"dG9vbHM6Mw\"}");
    is_json(ngx_http_mcp_tools_list(pool, tools, params, 0,
                                    NGX_HTTP_MCP_V_2025_11_25, err),
            "{\"tools\":[" T3 "," T4 "]}",
            "tools/list: a cursor is honoured with page size 0");
    json_decref(params);

    params = J("{\"cursor\":null}");
    is_json(ngx_http_mcp_tools_list(pool, tools, params, 3,
                                    NGX_HTTP_MCP_V_2025_11_25, err),
            "{\"tools\":[" T0 "," T1_NEW "," T2 "],"
            "\"nextCursor\":\"dG9vbHM6Mw\"}",
            "tools/list: a null cursor is the first page");
    json_decref(params);

    params = J("{\"_meta\":{\"progressToken\":1}}");
    is_json(ngx_http_mcp_tools_list(pool, tools, params, 1,
                                    NGX_HTTP_MCP_V_2025_11_25, err),
            "{\"tools\":[" T0 "],\"nextCursor\":\"dG9vbHM6MQ\"}",
            "tools/list: params without a cursor are the first page; "
            "page size 1");
    json_decref(params);

    is_json(ngx_http_mcp_tools_list(pool, NULL, NULL, 2,
                                    NGX_HTTP_MCP_V_2025_11_25, err),
            "{\"tools\":[]}",
            "tools/list: no tools configured is an empty list");

    is_json(ngx_http_mcp_tools_list(pool, &empty, NULL, 0,
                                    NGX_HTTP_MCP_V_2025_11_25, err),
            "{\"tools\":[]}",
            "tools/list: an empty tool array is an empty list");

#define bad_cursor(text, name)                                              \
    params = J(text);                                                      \
    clear_err(err);                                                        \
    res = ngx_http_mcp_tools_list(pool, tools, params, 2,                  \
                                  NGX_HTTP_MCP_V_2025_11_25, err);         \
    check(res == NULL && strcmp(err, "Invalid params: bad cursor") == 0,   \
          "%s", name);                                                     \
    json_decref(res);                                                      \
    json_decref(params)

    bad_cursor("{\"cursor\":\"garbage!\"}",
               "tools/list: a cursor that is not base64url is invalid "
               "params (pagination: invalid cursors SHOULD be -32602)");
    bad_cursor("{\"cursor\":\"\"}",
               "tools/list: an empty cursor is invalid");
    bad_cursor("{\"cursor\":\"dG9vbHM6MA\"}",
               "tools/list: the cursor of \"tools:0\" is invalid "
               "(never issued)");
    bad_cursor("{\"cursor\":\"dG9vbHM6OTk\"}",
               "tools/list: the cursor of \"tools:99\" is invalid "
               "(past the end)");
    bad_cursor("{\"cursor\":\"dG9vbHM6NQ\"}",
               "tools/list: the cursor of \"tools:5\" with 5 tools is "
               "invalid");
    bad_cursor("{\"cursor\":\"eDox\"}",
               "tools/list: the cursor of \"x:1\" is invalid");
    bad_cursor("{\"cursor\":\"dG9vbHM6\"}",
               "tools/list: the cursor of \"tools:\" is invalid");
    bad_cursor("{\"cursor\":\"dG9vbHM6LTE\"}",
               "tools/list: the cursor of \"tools:-1\" is invalid");
    bad_cursor("{\"cursor\":\"dG9vbHM6MXg\"}",
               "tools/list: the cursor of \"tools:1x\" is invalid");
    bad_cursor("{\"cursor\":\"dG9vbHM6MTg0NDY3NDQwNzM3MDk1NTE2MTc\"}",
               "tools/list: the cursor of an overflowing offset is "
               "invalid");
    bad_cursor("{\"cursor\":\"dG9vbHM6M\"}",
               "tools/list: a cursor of 4n+1 characters is invalid "
               "(RFC 4648 5)");
    bad_cursor("{\"cursor\":\"dG9vbHM6Mg+/\"}",
               "tools/list: base64 (not url) characters are invalid");
    bad_cursor("{\"cursor\":\"dG9vbHM6MgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
               "tools/list: an overlong cursor is invalid");
    bad_cursor("{\"cursor\":2}",
               "tools/list: a numeric cursor is invalid");
    bad_cursor("{\"cursor\":{}}",
               "tools/list: an object cursor is invalid");
    bad_cursor("{\"cursor\":false}",
               "tools/list: a boolean cursor is invalid");

#undef bad_cursor

    params = J("{\"cursor\":\"dG9vbHM6MQ\"}");
    clear_err(err);
    res = ngx_http_mcp_tools_list(pool, NULL, params, 2,
                                  NGX_HTTP_MCP_V_2025_11_25, err);
    check(res == NULL, "tools/list: any cursor is invalid without tools");
    json_decref(res);
    json_decref(params);

    free_tools(tools);
    free_tools(four);

#undef T0
#undef T1_NEW
#undef T1_OLD
#undef T2
#undef T3
#undef T4
}


/* tools/call parameters */

static void
test_tool_find(void)
{
    json_t               *params, *args;
    ngx_array_t          *tools;
    ngx_http_mcp_tool_t  *tool, *found;
    char                  err[NGX_HTTP_MCP_ERRLEN];
    char                  name[128];

    tools = ngx_array_create(pool, 3, sizeof(ngx_http_mcp_tool_t));
    if (tools == NULL) {
        exit(2);
    }

    add_tool(tools, "echo", NULL, NULL, NULL, NULL);
    add_tool(tools, "add", NULL, NULL, NULL, NULL);
    tool = tools->elts;

#define find(text)                                                          \
    params = J(text);                                                      \
    args = (json_t *) -1;                                                  \
    clear_err(err);                                                        \
    found = ngx_http_mcp_tool_find(tools, params, &args, err)

    find("{\"name\":\"add\",\"arguments\":{\"a\":1}}");
    check(found == &tool[1] && args == json_object_get(params, "arguments"),
          "tool_find: the named tool and its arguments "
          "(tools: calling-tools)");
    json_decref(params);

    find("{\"name\":\"echo\"}");
    check(found == &tool[0] && args == NULL,
          "tool_find: arguments may be absent");
    json_decref(params);

    find("{\"name\":\"nope\"}");
    check(found == NULL, "tool_find: an unknown tool is not found");
    is_str(err, "Invalid params: unknown tool \"nope\"",
           "tool_find: an unknown tool is invalid params "
           "(tools: error-handling: -32602)");
    json_decref(params);

    find("{\"name\":\"ech\"}");
    check(found == NULL, "tool_find: a prefix of a name is unknown");
    json_decref(params);

    find("{\"name\":\"echoo\"}");
    check(found == NULL, "tool_find: a longer name is unknown");
    json_decref(params);

    find("{\"name\":\"echo\\u0000\"}");
    check(found == NULL, "tool_find: a name with a trailing \\u0000 is "
          "unknown");
    is_error_text(err, "tool_find: the error text of a name with "
                  "\\u0000 is a C string");
    json_decref(params);

    find("{\"name\":\"ECHO\"}");
    check(found == NULL, "tool_find: names are case-sensitive");
    json_decref(params);

    find("{\"arguments\":{}}");
    check(found == NULL, "tool_find: a missing name is an error");
    is_str(err, "Invalid params: \"name\" must be a string",
           "tool_find: the error of a missing name");
    json_decref(params);

    find("{\"name\":1}");
    check(found == NULL
          && strcmp(err, "Invalid params: \"name\" must be a string") == 0,
          "tool_find: a numeric name is an error");
    json_decref(params);

    find("{\"name\":null}");
    check(found == NULL
          && strcmp(err, "Invalid params: \"name\" must be a string") == 0,
          "tool_find: a null name is an error");
    json_decref(params);

    clear_err(err);
    found = ngx_http_mcp_tool_find(tools, NULL, &args, err);
    check(found == NULL
          && strcmp(err, "Invalid params: \"name\" must be a string") == 0,
          "tool_find: no params is an error");

    find("{\"name\":\"echo\",\"arguments\":[1]}");
    check(found == NULL, "tool_find: array arguments are an error");
    is_str(err, "Invalid params: \"arguments\" must be an object",
           "tool_find: the error of arguments that are not an object");
    json_decref(params);

    find("{\"name\":\"echo\",\"arguments\":\"x\"}");
    check(found == NULL
          && strcmp(err, "Invalid params: \"arguments\" must be an object")
             == 0,
          "tool_find: string arguments are an error");
    json_decref(params);

    find("{\"name\":\"echo\",\"arguments\":null}");
    check(found == NULL
          && strcmp(err, "Invalid params: \"arguments\" must be an object")
             == 0,
          "tool_find: null arguments are an error");
    json_decref(params);

    find("{\"name\":\"nope\",\"arguments\":1}");
    check(found == NULL
          && strcmp(err, "Invalid params: \"arguments\" must be an object")
             == 0,
          "tool_find: bad arguments are reported before an unknown name");
    json_decref(params);

    clear_err(err);
    params = J("{\"name\":\"echo\"}");
    found = ngx_http_mcp_tool_find(NULL, params, &args, err);
    check(found == NULL
          && strcmp(err, "Invalid params: unknown tool \"echo\"") == 0,
          "tool_find: no tools configured: every name is unknown");
    json_decref(params);

    /* the name in the error is cut at 64 bytes */

    ngx_memset(name, 'n', 100);
    ngx_memcpy(name, "{\"name\":\"", 9);
    ngx_memcpy(name + 100, "\"}", 3);
    find(name);
    check(found == NULL && strlen(err) == 30 + 64 + 1
          && strncmp(err, "Invalid params: unknown tool \"", 30) == 0
          && strspn(err + 30, "n") == 64
          && err[30 + 64] == '"',
          "tool_find: a long unknown name is cut to 64 bytes in the error");
    is_error_text(err, "tool_find: the error of a long name fits the "
                  "buffer");
    json_decref(params);

    /* 62 ASCII bytes then "é": the cut at 64 falls after the é */

    ngx_memset(name, 'n', sizeof(name));
    ngx_memcpy(name, "{\"name\":\"", 9);
    ngx_memcpy(name + 9 + 62, "\xc3\xa9zz\"}", 7);
    find(name);
    is_error_text(err, "tool_find: a name cut after a whole character is "
                  "valid UTF-8");
    json_decref(params);

    /* 63 ASCII bytes then "é": the cut at 64 falls inside the é */

    ngx_memset(name, 'n', sizeof(name));
    ngx_memcpy(name, "{\"name\":\"", 9);
    ngx_memcpy(name + 9 + 63, "\xc3\xa9zz\"}", 7);
    find(name);

    args = ngx_http_mcp_error(NULL, NGX_HTTP_MCP_INVALID_PARAMS, err);
    check(args != NULL
          && strncmp(json_string_value(json_object_get(
                         json_object_get(args, "error"), "message")),
                     "Invalid params: unknown tool \"nnn", 33) == 0,
          "tool_find: an error response is built when the 64-byte cut "
          "falls inside a character (the message is a JSON string)");
    json_decref(args);

    json_decref(params);

#undef find
}


/* the shallow schema check */

static void
test_schema(void)
{
    json_t  *schema, *closed, *value, *res;
    char     err[NGX_HTTP_MCP_ERRLEN];
    char     text[256];

    schema = J("{\"type\":\"object\",\"properties\":{"
               "\"s\":{\"type\":\"string\"},"
               "\"i\":{\"type\":\"integer\"},"
               "\"n\":{\"type\":\"number\"},"
               "\"b\":{\"type\":\"boolean\"},"
               "\"o\":{\"type\":\"object\"},"
               "\"a\":{\"type\":\"array\"},"
               "\"z\":{\"type\":\"null\"},"
               "\"u\":{\"type\":[\"string\",\"null\"]},"
               "\"x\":{\"type\":\"uuid\"},"
               "\"any\":{},"
               "\"t\":{\"type\":7}},"
               "\"required\":[\"s\", 5]}");

    closed = J("{\"type\":\"object\",\"properties\":{\"a\":{}},"
               "\"additionalProperties\":false}");

#define schema_ok(sch, text, name)                                          \
    value = J(text);                                                       \
    clear_err(err);                                                        \
    if (!check(ngx_http_mcp_schema_check(sch, value, "arguments", err)     \
               == NGX_OK, "%s", name))                                     \
    {                                                                      \
        diag("%s", err);                                                   \
    }                                                                      \
    json_decref(value)

#define schema_bad(sch, text, want, name)                                   \
    value = J(text);                                                       \
    clear_err(err);                                                        \
    if (ngx_http_mcp_schema_check(sch, value, "arguments", err)            \
        != NGX_DECLINED)                                                   \
    {                                                                      \
        check(0, "%s", name);                                              \
        diag("accepted %s", text);                                         \
    } else {                                                               \
        is_str(err, want, name);                                           \
    }                                                                      \
    json_decref(value)

    schema_ok(schema, "{\"s\":\"x\"}",
              "schema: the required property present is valid "
              "(JSON Schema validation 6.5.3)");
    schema_bad(schema, "{}", "arguments: missing required property \"s\"",
               "schema: a missing required property is reported");
    schema_bad(schema, "{\"S\":\"x\"}",
               "arguments: missing required property \"s\"",
               "schema: property names are case-sensitive");
    schema_ok(schema, "{\"s\":\"x\",\"extra\":[1,{}]}",
              "schema: other properties are allowed by default "
              "(JSON Schema core 10.3.2.3)");

    schema_bad(schema, "[]", "arguments must be an object",
               "schema: an array is not an object");
    schema_bad(schema, "\"s\"", "arguments must be an object",
               "schema: a string is not an object");
    schema_bad(schema, "null", "arguments must be an object",
               "schema: null is not an object");

    schema_bad(schema, "{\"s\":1}",
               "arguments: property \"s\" has the wrong type",
               "schema: a number for a string is the wrong type "
               "(JSON Schema validation 6.1.1)");
    schema_bad(schema, "{\"s\":null}",
               "arguments: property \"s\" has the wrong type",
               "schema: null for a required string is the wrong type");

    schema_ok(schema, "{\"s\":\"\",\"i\":1}",
              "schema: 1 is an integer");
    schema_ok(schema, "{\"s\":\"\",\"i\":-9223372036854775808}",
              "schema: the smallest 64-bit integer is an integer");
    schema_ok(schema, "{\"s\":\"\",\"i\":1.0}",
              "schema: 1.0 is an integer (JSON Schema core 4.2.2: a zero "
              "fractional part)");
    schema_ok(schema, "{\"s\":\"\",\"i\":-0.0}",
              "schema: -0.0 is an integer");
    schema_ok(schema, "{\"s\":\"\",\"i\":1e3}",
              "schema: 1e3 is an integer");
    schema_bad(schema, "{\"s\":\"\",\"i\":1.5}",
               "arguments: property \"i\" has the wrong type",
               "schema: 1.5 is not an integer");
    schema_bad(schema, "{\"s\":\"\",\"i\":\"1\"}",
               "arguments: property \"i\" has the wrong type",
               "schema: \"1\" is not an integer");

    schema_ok(schema, "{\"s\":\"\",\"i\":-9e18}",
              "schema: -9e18 as a real is an integer");

    schema_ok(schema, "{\"s\":\"\",\"i\":1e300}",
              "schema: 1e300 is an integer (JSON Schema core 4.2.2: a zero "
              "fractional part)");

    schema_ok(schema, "{\"s\":\"\",\"n\":1}", "schema: 1 is a number");
    schema_ok(schema, "{\"s\":\"\",\"n\":1.5}", "schema: 1.5 is a number");
    schema_bad(schema, "{\"s\":\"\",\"n\":\"1\"}",
               "arguments: property \"n\" has the wrong type",
               "schema: \"1\" is not a number");

    schema_ok(schema, "{\"s\":\"\",\"b\":false}",
              "schema: false is a boolean");
    schema_bad(schema, "{\"s\":\"\",\"b\":0}",
               "arguments: property \"b\" has the wrong type",
               "schema: 0 is not a boolean");

    schema_ok(schema, "{\"s\":\"\",\"o\":{}}", "schema: {} is an object");
    schema_bad(schema, "{\"s\":\"\",\"o\":[]}",
               "arguments: property \"o\" has the wrong type",
               "schema: [] is not an object");

    schema_ok(schema, "{\"s\":\"\",\"a\":[]}", "schema: [] is an array");
    schema_bad(schema, "{\"s\":\"\",\"a\":{}}",
               "arguments: property \"a\" has the wrong type",
               "schema: {} is not an array");

    schema_ok(schema, "{\"s\":\"\",\"z\":null}", "schema: null is null");
    schema_bad(schema, "{\"s\":\"\",\"z\":0}",
               "arguments: property \"z\" has the wrong type",
               "schema: 0 is not null");

    schema_ok(schema, "{\"s\":\"\",\"u\":\"x\"}",
              "schema: a type array admits its first type "
              "(JSON Schema validation 6.1.1)");
    schema_ok(schema, "{\"s\":\"\",\"u\":null}",
              "schema: a type array admits its second type");
    schema_bad(schema, "{\"s\":\"\",\"u\":1}",
               "arguments: property \"u\" has the wrong type",
               "schema: a type array rejects other types");

    schema_ok(schema, "{\"s\":\"\",\"x\":1}",
              "schema: a type the gateway does not know is left to the "
              "backend");
    schema_ok(schema, "{\"s\":\"\",\"any\":[{}]}",
              "schema: a property without a type takes anything");
    schema_ok(schema, "{\"s\":\"\",\"t\":1}",
              "schema: a type that is neither string nor array is not "
              "checked");

    schema_ok(closed, "{\"a\":1}",
              "schema: a declared property with additionalProperties "
              "false");
    schema_ok(closed, "{}",
              "schema: nothing at all with additionalProperties false");
    schema_bad(closed, "{\"a\":1,\"b\":2}",
               "arguments: unexpected property \"b\"",
               "schema: an undeclared property with additionalProperties "
               "false is rejected (JSON Schema core 10.3.2.3)");

    json_decref(closed);
    closed = J("{\"additionalProperties\":false}");
    schema_bad(closed, "{\"a\":1}", "arguments: unexpected property \"a\"",
               "schema: additionalProperties false without properties "
               "admits nothing");
    json_decref(closed);

    closed = J("{\"properties\":{},\"additionalProperties\":{}}");
    schema_ok(closed, "{\"a\":1}",
              "schema: additionalProperties as a schema is not checked "
              "here");
    json_decref(closed);

    closed = J("{\"required\":\"a\"}");
    schema_ok(closed, "{}", "schema: a \"required\" that is not an array "
              "is ignored");
    json_decref(closed);

    schema_ok(NULL, "{\"a\":1}", "schema: no schema admits any object");

    value = J("{\"a\":1}");
    clear_err(err);
    ngx_http_mcp_schema_check(schema, value, "structured content", err);
    is_str(err, "structured content: missing required property \"s\"",
           "schema: the error names what was checked");
    json_decref(value);

    /* property names in errors are cut at 64 bytes */

    closed = J("{\"additionalProperties\":false}");

    ngx_memset(text, 'k', sizeof(text));
    ngx_memcpy(text, "{\"", 2);
    ngx_memcpy(text + 2 + 80, "\":1}", 5);
    schema_bad(closed, text,
               "arguments: unexpected property \""
               "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
               "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
               "\"",
               "schema: a long property name is cut to 64 bytes");

    ngx_memset(text, 'k', sizeof(text));
    ngx_memcpy(text, "{\"", 2);
    ngx_memcpy(text + 2 + 63, "\xe2\x82\xac\":1}", 8);
    value = J(text);
    clear_err(err);
    ngx_http_mcp_schema_check(closed, value, "arguments", err);

    check(strncmp(err, "arguments: unexpected property \"kkk", 35) == 0,
          "schema: a long name with a character at the cut");

    res = ngx_http_mcp_error(NULL, NGX_HTTP_MCP_INVALID_PARAMS, err);
    check(res != NULL, "schema: an error response is built when the cut "
          "falls inside a character (before 2025-11-25)");
    json_decref(res);

    res = ngx_http_mcp_tool_error(pool, (u_char *) err, strlen(err));
    check(res != NULL, "schema: a tool error is built when the cut falls "
          "inside a character (2025-11-25)");
    json_decref(res);

    json_decref(value);
    json_decref(closed);
    json_decref(schema);

#undef schema_ok
#undef schema_bad
}


/* the tool backend's answer as a CallToolResult */

static json_t *
reply(ngx_http_mcp_tool_t *tool, ngx_uint_t status, const char *type,
    const char *body, size_t len, ngx_uint_t version)
{
    ngx_http_mcp_reply_t  r;

    ngx_memzero(&r, sizeof(ngx_http_mcp_reply_t));

    r.status = status;
    r.content_type.data = (u_char *) type;
    r.content_type.len = type ? strlen(type) : 0;
    r.body = (u_char *) body;
    r.len = (len == (size_t) -1) ? (body ? strlen(body) : 0) : len;
    r.limit = 1024;

    return ngx_http_mcp_tool_result(pool, tool, &r, 16, version);
}


#define AUTO  ((size_t) -1)


/* takes the reference to got */

static ngx_int_t
is_tool_error(json_t *got, const char *text, ngx_uint_t prefix,
    const char *name)
{
    json_t      *content, *block, *t;
    ngx_int_t    rc;
    const char  *s, *type;

    content = json_object_get(got, "content");
    block = json_array_get(content, 0);
    type = json_string_value(json_object_get(block, "type"));
    t = json_object_get(block, "text");
    s = json_string_value(t);

    rc = check(json_object_size(got) == 2
               && json_is_true(json_object_get(got, "isError"))
               && json_array_size(content) == 1
               && json_object_size(block) == 2
               && type != NULL && strcmp(type, "text") == 0
               && s != NULL
               && (prefix ? strncmp(s, text, strlen(text)) == 0
                          : json_string_length(t) == strlen(text)
                            && strcmp(s, text) == 0),
               "%s", name);

    if (!rc) {
        diag_json("got", got);
        diag("expected isError with the text%s: %s",
             prefix ? " starting" : "", text);
    }

    json_decref(got);

    return rc;
}


static void
test_tool_result(void)
{
    json_t               *res, *other;
    ngx_array_t          *tools;
    ngx_http_mcp_tool_t  *echo, *typed;
    ngx_http_mcp_reply_t  r;

    tools = ngx_array_create(pool, 2, sizeof(ngx_http_mcp_tool_t));
    if (tools == NULL) {
        exit(2);
    }

    echo = add_tool(tools, "echo", NULL, NULL, NULL, NULL);
    typed = add_tool(tools, "typed", NULL, NULL, NULL,
                     "{\"type\":\"object\",\"properties\":"
                     "{\"n\":{\"type\":\"integer\"}},\"required\":[\"n\"]}");

    /* 2xx application/json */

    is_json(reply(echo, 200, "application/json", "{\"a\":[1,\"x\"]}", AUTO,
                  NGX_HTTP_MCP_V_2025_06_18),
            "{\"content\":[{\"type\":\"text\",\"text\":"
            "\"{\\\"a\\\":[1,\\\"x\\\"]}\"}],"
            "\"structuredContent\":{\"a\":[1,\"x\"]}}",
            "result: 2xx JSON object: the body as text and as "
            "structuredContent (tools: structured-content)");

    is_json(reply(echo, 200, "application/json", " {\"a\" : 1}\n", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\","
            "\"text\":\" {\\\"a\\\" : 1}\\n\"}],"
            "\"structuredContent\":{\"a\":1}}",
            "result: 2xx JSON object: the text block is the body as sent "
            "(tools: SHOULD also return the serialized JSON in a "
            "TextContent block)");

    is_json(reply(echo, 200, "application/json", "[1,2]", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"[1,2]\"}]}",
            "result: 2xx JSON array: text only (structuredContent is an "
            "object)");

    is_json(reply(echo, 200, "application/json", "\"hi\"", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"\\\"hi\\\"\"}]}",
            "result: 2xx JSON string: text only");

    is_json(reply(echo, 200, "application/json", "42", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"42\"}]}",
            "result: 2xx JSON number: text only");

    is_json(reply(echo, 201, "application/json; charset=utf-8",
                  "{\"ok\":true}", AUTO, NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"ok\\\":true}\"}],"
            "\"structuredContent\":{\"ok\":true}}",
            "result: 201 with a charset parameter is JSON");

    is_json(reply(echo, 299, "Application/JSON", "{}", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"{}\"}],"
            "\"structuredContent\":{}}",
            "result: 299 and a media type in another case are JSON "
            "(RFC 9110 8.3.1: case-insensitive)");

    is_json(reply(echo, 200, "application/json", "{\"a\":1}", AUTO,
                  NGX_HTTP_MCP_V_2025_03_26),
            "{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"a\\\":1}\"}]}",
            "result: no structuredContent for 2025-03-26 (it came with "
            "2025-06-18)");

    is_tool_error(reply(echo, 200, "application/json", "{\"a\":", AUTO,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"echo\" returned invalid JSON: ", 1,
                  "result: 2xx JSON that does not parse is a tool error");

    is_tool_error(reply(echo, 200, "application/json",
                        "{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}", AUTO,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"echo\" returned invalid JSON: JSON nested deeper "
                  "than 16 levels", 0,
                  "result: 2xx JSON nested too deep is a tool error");

    is_tool_error(reply(echo, 200, "application/json", "", AUTO,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"echo\" returned invalid JSON: ", 1,
                  "result: 2xx JSON with an empty body is a tool error");

    is_tool_error(reply(echo, 200, "application/json", NULL, 0,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"echo\" returned invalid JSON: ", 1,
                  "result: 2xx JSON without a body is a tool error");

    res = reply(echo, 200, "application/json", NULL, 0,
                NGX_HTTP_MCP_V_2025_11_25);
    other = reply(echo, 200, "application/json", "", 0,
                  NGX_HTTP_MCP_V_2025_11_25);
    if (!check(json_equal(res, other), "result: 2xx JSON without a body "
               "reads as an empty body"))
    {
        diag_json("no body", res);
        diag_json("empty body", other);
    }
    json_decref(res);
    json_decref(other);

    is_tool_error(reply(echo, 200, "application/json", "{\"a\":\"\xff\"}",
                        AUTO, NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"echo\" returned invalid JSON: ", 1,
                  "result: 2xx JSON that is not UTF-8 is a tool error "
                  "(RFC 8259 8.1)");

    /* 2xx other types */

    is_json(reply(echo, 200, "text/plain", "hello", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"hello\"}]}",
            "result: 2xx text/plain is a text block (tools: text-content)");

    is_json(reply(echo, 200, "application/jsonp", "{\"a\":1}", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"a\\\":1}\"}]}",
            "result: application/jsonp is not application/json");

    is_json(reply(echo, 200, "application/problem+json", "{\"a\":1}", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"a\\\":1}\"}]}",
            "result: another +json type is text");

    is_json(reply(echo, 200, NULL, "raw", AUTO, NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"raw\"}]}",
            "result: 2xx without a content type is a text block");

    is_json(reply(echo, 204, NULL, NULL, 0, NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"\"}]}",
            "result: 204 without a body is an empty text block");

    is_json(reply(echo, 200, "text/plain", "a\xff" "b", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"a\\ufffdb\"}]}",
            "result: text that is not UTF-8 is repaired with U+FFFD");

    is_json(reply(echo, 200, "text/plain", "a\0b", 3,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"a\\u0000b\"}]}",
            "result: NUL bytes in text are kept");

    /* the pass-through type */

#define RT  NGX_HTTP_MCP_RESULT_TYPE

    is_json(reply(echo, 200, RT,
                  "{\"content\":[{\"type\":\"text\",\"text\":\"hi\"},"
                  "{\"type\":\"image\",\"data\":\"AAAA\",\"mimeType\":"
                  "\"image/png\"},"
                  "{\"type\":\"audio\",\"data\":\"AAAA\",\"mimeType\":"
                  "\"audio/wav\"},"
                  "{\"type\":\"resource\",\"resource\":{\"uri\":\"file:///a\","
                  "\"text\":\"t\"}},"
                  "{\"type\":\"resource\",\"resource\":{\"uri\":\"file:///b\","
                  "\"blob\":\"AAAA\",\"mimeType\":\"x/y\"}},"
                  "{\"type\":\"resource_link\",\"uri\":\"file:///c\","
                  "\"name\":\"c\"}],"
                  "\"isError\":false,\"_meta\":{\"k\":1}}", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"hi\"},"
            "{\"type\":\"image\",\"data\":\"AAAA\",\"mimeType\":\"image/png\"},"
            "{\"type\":\"audio\",\"data\":\"AAAA\",\"mimeType\":\"audio/wav\"},"
            "{\"type\":\"resource\",\"resource\":{\"uri\":\"file:///a\","
            "\"text\":\"t\"}},"
            "{\"type\":\"resource\",\"resource\":{\"uri\":\"file:///b\","
            "\"blob\":\"AAAA\",\"mimeType\":\"x/y\"}},"
            "{\"type\":\"resource_link\",\"uri\":\"file:///c\","
            "\"name\":\"c\"}],\"isError\":false,\"_meta\":{\"k\":1}}",
            "result: a tool-result+json body is passed through "
            "(tools: tool-result: text, image, audio, resource, "
            "resource_link)");

    is_json(reply(echo, 200, RT,
                  "{\"content\":[],\"structuredContent\":{\"n\":1}}", AUTO,
                  NGX_HTTP_MCP_V_2025_06_18),
            "{\"content\":[],\"structuredContent\":{\"n\":1}}",
            "result: a pass-through structuredContent is kept for "
            "2025-06-18");

    is_json(reply(echo, 200, RT,
                  "{\"content\":[],\"structuredContent\":{\"n\":1}}", AUTO,
                  NGX_HTTP_MCP_V_2025_03_26),
            "{\"content\":[]}",
            "result: a pass-through structuredContent is removed for "
            "2025-03-26");

    is_json(reply(echo, 200, RT,
                  "{\"content\":[{\"type\":\"text\",\"text\":\"no\"}],"
                  "\"isError\":true}", AUTO, NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"no\"}],"
            "\"isError\":true}",
            "result: a pass-through isError true is kept "
            "(tools: error-handling: tool execution errors)");

    is_json(reply(echo, 200, RT "; charset=utf-8", "{\"content\":[]}", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[]}",
            "result: the pass-through type with a parameter");

    is_json(reply(echo, 200, "APPLICATION/VND.MCP.TOOL-RESULT+JSON",
                  "{\"content\":[]}", AUTO, NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[]}",
            "result: the pass-through type in upper case");

    is_json(reply(echo, 200, RT " ;q=1", "{\"content\":[]}", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[]}",
            "result: whitespace before the parameters of the pass-through "
            "type");

    is_json(reply(echo, 200, RT "x", "{\"content\":[]}", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\","
            "\"text\":\"{\\\"content\\\":[]}\"}]}",
            "result: a longer type is not the pass-through type");

#define bad_result(body, why, name)                                         \
    is_tool_error(reply(echo, 200, RT, body, AUTO,                         \
                        NGX_HTTP_MCP_V_2025_11_25),                        \
                  "tool \"echo\" returned an invalid CallToolResult: "     \
                  why, 0, name)

    bad_result("[]", "the result is not an object",
               "result: a pass-through array is a tool error");
    bad_result("{}", "\"content\" must be an array",
               "result: a pass-through without content is a tool error "
               "(tools: tool-result: content is required)");
    bad_result("{\"content\":{}}", "\"content\" must be an array",
               "result: a pass-through content object is a tool error");
    bad_result("{\"content\":[1]}", "a content block is not an object",
               "result: a content block that is not an object");
    bad_result("{\"content\":[{\"text\":\"x\"}]}",
               "a content block has no \"type\"",
               "result: a content block without a type");
    bad_result("{\"content\":[{\"type\":1}]}",
               "a content block has no \"type\"",
               "result: a content block with a numeric type");
    bad_result("{\"content\":[{\"type\":\"text\"}]}",
               "a text block needs a string \"text\"",
               "result: a text block without text");
    bad_result("{\"content\":[{\"type\":\"text\",\"text\":1}]}",
               "a text block needs a string \"text\"",
               "result: a text block with numeric text");
    bad_result("{\"content\":[{\"type\":\"image\",\"data\":\"x\"}]}",
               "an image or audio block needs \"data\" and \"mimeType\" "
               "strings",
               "result: an image block without mimeType");
    bad_result("{\"content\":[{\"type\":\"audio\",\"mimeType\":\"a/b\"}]}",
               "an image or audio block needs \"data\" and \"mimeType\" "
               "strings",
               "result: an audio block without data");
    bad_result("{\"content\":[{\"type\":\"resource\",\"resource\":"
               "{\"uri\":\"x\"}}]}",
               "a resource block needs a \"resource\" with \"uri\" and "
               "\"text\" or \"blob\"",
               "result: a resource without text or blob");
    bad_result("{\"content\":[{\"type\":\"resource\",\"resource\":"
               "{\"text\":\"x\"}}]}",
               "a resource block needs a \"resource\" with \"uri\" and "
               "\"text\" or \"blob\"",
               "result: a resource without uri");
    bad_result("{\"content\":[{\"type\":\"resource\"}]}",
               "a resource block needs a \"resource\" with \"uri\" and "
               "\"text\" or \"blob\"",
               "result: a resource block without a resource");
    bad_result("{\"content\":[{\"type\":\"resource_link\",\"uri\":\"x\"}]}",
               "a resource_link block needs \"uri\" and \"name\"",
               "result: a resource_link without name");
    bad_result("{\"content\":[{\"type\":\"video\"}]}",
               "a content block has an unknown \"type\"",
               "result: a content block of an unknown type");
    bad_result("{\"content\":[{\"type\":\"text\",\"text\":\"ok\"},2]}",
               "a content block is not an object",
               "result: every block is checked");
    bad_result("{\"content\":[],\"isError\":\"yes\"}",
               "\"isError\" must be a boolean",
               "result: a string isError");
    bad_result("{\"content\":[],\"isError\":null}",
               "\"isError\" must be a boolean",
               "result: a null isError");
    bad_result("{\"content\":[],\"structuredContent\":[1]}",
               "\"structuredContent\" must be an object",
               "result: an array structuredContent");
    bad_result("{\"content\":[],\"_meta\":1}",
               "\"_meta\" must be an object",
               "result: a numeric _meta");

#undef bad_result

    is_tool_error(reply(echo, 200, RT, "{\"content\":", AUTO,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"echo\" returned an invalid CallToolResult: ", 1,
                  "result: a pass-through that does not parse is a tool "
                  "error");

    is_tool_error(reply(echo, 200, RT, NULL, 0, NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"echo\" returned an invalid CallToolResult: ", 1,
                  "result: a pass-through without a body is a tool error");

    /* failures */

    is_tool_error(reply(echo, 400, "text/plain", "bad input", AUTO,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "bad input", 0,
                  "result: 4xx with a body: the body as text, isError "
                  "(tools: error-handling)");

    is_tool_error(reply(echo, 500, "application/json", "{\"error\":1}", AUTO,
                        NGX_HTTP_MCP_V_2025_06_18),
                  "{\"error\":1}", 0,
                  "result: 5xx JSON: the body as text, no structuredContent");

    is_tool_error(reply(echo, 503, RT, "{\"content\":[]}", AUTO,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "{\"content\":[]}", 0,
                  "result: 5xx of the pass-through type is not passed "
                  "through");

    is_tool_error(reply(echo, 404, "text/plain", NULL, 0,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"echo\" failed with HTTP status 404", 0,
                  "result: 4xx without a body says the status");

    is_tool_error(reply(echo, 502, NULL, "", 0, NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"echo\" failed with HTTP status 502", 0,
                  "result: 5xx with an empty body says the status");

    is_tool_error(reply(echo, 500, "text/plain", "x\xc3(", AUTO,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "x" FFFD "(", 0,
                  "result: an error body that is not UTF-8 is repaired");

    is_tool_error(reply(echo, 302, "text/plain", NULL, 0,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"echo\" failed with HTTP status 302", 0,
                  "result: 3xx is a failure");

    is_tool_error(reply(echo, 199, "text/plain", NULL, 0,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"echo\" failed with HTTP status 199", 0,
                  "result: a status under 200 is a failure");

    ngx_memzero(&r, sizeof(ngx_http_mcp_reply_t));
    r.status = 200;
    r.limit = 1048576;
    r.too_large = 1;
    r.body = (u_char *) "{}";
    r.len = 2;
    ngx_str_set(&r.content_type, "application/json");

    is_tool_error(ngx_http_mcp_tool_result(pool, echo, &r, 16,
                                           NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"echo\" returned more than the 1048576 bytes "
                  "allowed by mcp_tool_max_response", 0,
                  "result: a body over the limit is a tool error");

    r.status = 500;
    is_tool_error(ngx_http_mcp_tool_result(pool, echo, &r, 16,
                                           NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"echo\" returned more than the 1048576 bytes "
                  "allowed by mcp_tool_max_response", 0,
                  "result: too large wins over a failure status");

    /* output schemas */

    is_json(reply(typed, 200, "application/json", "{\"n\":1}", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"n\\\":1}\"}],"
            "\"structuredContent\":{\"n\":1}}",
            "result: structured content that matches the output schema "
            "(tools: output-schema)");

    is_tool_error(reply(typed, 200, "application/json", "{\"n\":\"1\"}", AUTO,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"typed\" returned a result that does not match its "
                  "output schema: structured content: property \"n\" has "
                  "the wrong type", 0,
                  "result: structured content of the wrong type is a tool "
                  "error (tools: servers MUST provide structured results "
                  "that conform)");

    is_tool_error(reply(typed, 200, "application/json", "{}", AUTO,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"typed\" returned a result that does not match its "
                  "output schema: structured content: missing required "
                  "property \"n\"", 0,
                  "result: structured content without a required property");

    is_tool_error(reply(typed, 200, "text/plain", "12", AUTO,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"typed\" declares an output schema but returned "
                  "no structured content", 0,
                  "result: an output schema and a text answer");

    is_tool_error(reply(typed, 200, "application/json", "[1]", AUTO,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"typed\" declares an output schema but returned "
                  "no structured content", 0,
                  "result: an output schema and a JSON array");

    is_json(reply(typed, 200, RT,
                  "{\"content\":[],\"structuredContent\":{\"n\":2}}", AUTO,
                  NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[],\"structuredContent\":{\"n\":2}}",
            "result: a pass-through that matches the output schema");

    is_tool_error(reply(typed, 200, RT, "{\"content\":[]}", AUTO,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"typed\" declares an output schema but returned "
                  "no structured content", 0,
                  "result: a pass-through without structured content");

    is_tool_error(reply(typed, 200, RT,
                        "{\"content\":[],\"structuredContent\":{\"n\":0.5}}",
                        AUTO, NGX_HTTP_MCP_V_2025_11_25),
                  "tool \"typed\" returned a result that does not match its "
                  "output schema: structured content: property \"n\" has "
                  "the wrong type", 0,
                  "result: a pass-through that does not match the output "
                  "schema");

    is_json(reply(typed, 200, RT,
                  "{\"content\":[{\"type\":\"text\",\"text\":\"e\"}],"
                  "\"isError\":true}", AUTO, NGX_HTTP_MCP_V_2025_11_25),
            "{\"content\":[{\"type\":\"text\",\"text\":\"e\"}],"
            "\"isError\":true}",
            "result: a tool error needs no structured content");

    is_tool_error(reply(typed, 422, "application/json", "{\"n\":\"x\"}", AUTO,
                        NGX_HTTP_MCP_V_2025_11_25),
                  "{\"n\":\"x\"}", 0,
                  "result: a failure is not checked against the output "
                  "schema");

    is_json(reply(typed, 200, "application/json", "{\"n\":1}", AUTO,
                  NGX_HTTP_MCP_V_2025_03_26),
            "{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"n\\\":1}\"}]}",
            "result: matching structured content is still removed for "
            "2025-03-26");

    res = ngx_http_mcp_tool_error(pool, (u_char *) "boom", 4);
    is_json(res, "{\"content\":[{\"type\":\"text\",\"text\":\"boom\"}],"
            "\"isError\":true}",
            "tool_error: one text block and isError true");

    free_tools(tools);

#undef RT
}


/* UTF-8 repair */

static void
test_json_text(void)
{
#define text_is(in, want, name)                                             \
    is_bytes(ngx_http_mcp_json_text(pool, (u_char *) in, sizeof(in) - 1),  \
             want, sizeof(want) - 1, name)

    text_is("plain ascii", "plain ascii",
            "utf-8: ASCII passes through");
    text_is("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80",
            "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80",
            "utf-8: valid two-, three- and four-byte sequences pass "
            "through");
    text_is("\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\xef\xbf\xbf\xf4\x8f\xbf\xbf",
            "utf-8: U+FFFF and U+10FFFF pass through");
    text_is("", "", "utf-8: the empty string");
    text_is("\xff", FFFD, "utf-8: a lone 0xff becomes U+FFFD "
            "(Unicode 3.9)");
    text_is("a\xff" "b", "a" FFFD "b",
            "utf-8: only the bad byte is replaced");
    text_is("\xc3\xc3\xa9", FFFD "\xc3\xa9",
            "utf-8: c3 c3 a9: a truncated lead, then a whole character");
    text_is("\xc0\xaf", FFFD FFFD,
            "utf-8: overlong c0 af gives two U+FFFD (RFC 3629 3)");
    text_is("\xe0\x80\xaf", FFFD FFFD FFFD,
            "utf-8: overlong e0 80 af gives three U+FFFD");
    text_is("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD,
            "utf-8: overlong f0 80 80 af gives four U+FFFD");
    text_is("\xed\xa0\x80", FFFD FFFD FFFD,
            "utf-8: surrogate ed a0 80 gives three U+FFFD (RFC 3629 3)");
    text_is("\xed\x9f\xbf", "\xed\x9f\xbf",
            "utf-8: U+D7FF just below the surrogates passes through");
    text_is("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD,
            "utf-8: f4 90 80 80 beyond U+10FFFF gives four U+FFFD");
    text_is("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD,
            "utf-8: f5 is never a lead byte");
    text_is("\x80\xbf", FFFD FFFD,
            "utf-8: lone continuation bytes are replaced one by one");
    text_is("\xe2\x82", FFFD FFFD,
            "utf-8: truncated e2 82 at the end gives one U+FFFD per byte");
    text_is("\xe2\x82x", FFFD FFFD "x",
            "utf-8: truncated e2 82 before ASCII");
    text_is("\xf0\x9f\x98", FFFD FFFD FFFD,
            "utf-8: a truncated four-byte sequence at the end");
    text_is("a\0b", "a\0b", "utf-8: NUL bytes are kept (RFC 8259 7)");
    text_is("\0\xff\0", "\0" FFFD "\0",
            "utf-8: NUL bytes are kept around a repair");
    text_is("\xc3\xa9\xff\xc3\xa9", "\xc3\xa9" FFFD "\xc3\xa9",
            "utf-8: a bad byte between valid characters");

#undef text_is
}


/* JWT access tokens, signed here with HS256 */

#define JWT_SECRET  "an HS256 secret of 32 bytes: ok."
#define JWT_ISS     "https://as.example.com"
#define JWT_AUD     "https://mcp.example.com/mcp"


static ngx_http_mcp_jwt_policy_t  jwt_policy;


static ngx_str_t
jwt_b64(const char *text, size_t len)
{
    ngx_str_t  src, dst;

    src.data = (u_char *) text;
    src.len = len;

    dst.data = ngx_pnalloc(pool, ngx_base64_encoded_length(len) + 1);
    ngx_encode_base64url(&dst, &src);

    return dst;
}


static ngx_str_t
jwt_make(const char *header, const char *claims, const char *secret)
{
    u_char        *p;
    ngx_str_t      h, c, sig, token;
    unsigned int   len;
    u_char         mac[EVP_MAX_MD_SIZE];

    h = jwt_b64(header, strlen(header));
    c = jwt_b64(claims, strlen(claims));

    token.data = ngx_pnalloc(pool, h.len + c.len + 64);
    p = ngx_cpymem(token.data, h.data, h.len);
    *p++ = '.';
    p = ngx_cpymem(p, c.data, c.len);

    HMAC(EVP_sha256(), secret, strlen(secret), token.data, p - token.data,
         mac, &len);

    sig = jwt_b64((char *) mac, len);

    *p++ = '.';
    p = ngx_cpymem(p, sig.data, sig.len);

    token.len = p - token.data;

    return token;
}


static ngx_int_t
jwt_check(const char *header, const char *claims, ngx_http_mcp_jwt_t *jwt)
{
    ngx_str_t  token;

    token = jwt_make(header, claims, JWT_SECRET);

    return ngx_http_mcp_jwt_verify(pool, &jwt_policy, &token, 1000000, jwt);
}


static void
jwt_refused(const char *name, const char *header, const char *claims,
    const char *error)
{
    ngx_int_t           rc;
    ngx_http_mcp_jwt_t  jwt;

    rc = jwt_check(header, claims, &jwt);

    if (!check(rc == NGX_DECLINED && jwt.error
               && strcmp(jwt.error, error) == 0,
               "RFC 7519: %s: refused, \"%s\"", name, error))
    {
        diag("got rc %d, \"%s\"", (int) rc, jwt.error ? jwt.error : "");
    }
}


#define HS     "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* 256 bytes of 0xff, base64url */
#define RSA_ONES                                                            \
    "________________________________________________________________"      \
    "________________________________________________________________"      \
    "________________________________________________________________"      \
    "________________________________________________________________"      \
    "________________________________________________________________"      \
    "_____________________w"
#define GOOD   "\"iss\":\"" JWT_ISS "\",\"aud\":\"" JWT_AUD "\","           \
               "\"sub\":\"alice\""


static void
test_jwt(void)
{
    ngx_int_t            rc;
    ngx_str_t            token, *iss;
    ngx_uint_t           i;
    ngx_array_t          keys;
    ngx_http_mcp_jwt_t   jwt;

    ngx_memzero(&jwt_policy, sizeof(jwt_policy));
    ngx_array_init(&jwt_policy.keys, pool, 2, sizeof(ngx_http_mcp_jwk_t));
    ngx_array_init(&jwt_policy.issuers, pool, 1, sizeof(ngx_str_t));
    iss = ngx_array_push(&jwt_policy.issuers);
    ngx_str_set(iss, JWT_ISS);
    ngx_str_set(&jwt_policy.audience, JWT_AUD);
    ngx_str_set(&jwt_policy.client_claim, "sub");
    jwt_policy.leeway = 60;

    check(ngx_http_mcp_jwt_secret((u_char *) "short", 5, &jwt_policy.keys)
          != NULL, "RFC 7518 3.2: an HS256 secret under 32 bytes is refused");
    check(ngx_http_mcp_jwt_secret((u_char *) JWT_SECRET, 32,
                                  &jwt_policy.keys) == NULL,
          "RFC 7518 3.2: a 32-byte secret is taken");

    rc = jwt_check(HS, "{" GOOD ",\"exp\":1000300,\"scope\":\"a  b\"}",
                   &jwt);
    check(rc == NGX_OK, "RFC 9068: a valid HS256 token is taken");
    check(jwt.client.len == 5
          && ngx_strncmp(jwt.client.data, "alice", 5) == 0,
          "RFC 9068: sub names the principal");
    check(jwt.scope.len == 4 && ngx_strncmp(jwt.scope.data, "a  b", 4) == 0,
          "RFC 9068 2.2.3: scope is kept as sent");
    check(jwt.expires == 1000360, "expiry is exp and the leeway");

    rc = jwt_check(HS, "{" GOOD ",\"exp\":1000300,\"scp\":[\"x\",\"y\"]}",
                   &jwt);
    check(rc == NGX_OK && jwt.scope.len == 3
          && ngx_strncmp(jwt.scope.data, "x y", 3) == 0,
          "an scp array is taken as scope");

    rc = jwt_check(HS, "{" GOOD ",\"exp\":1e300}", &jwt);
    check(rc == NGX_OK && jwt.expires == 1000000 + 86400 * 366,
          "a far exp is kept a year at most");

    rc = jwt_check(HS, "{" GOOD ",\"exp\":999950}", &jwt);
    check(rc == NGX_OK, "RFC 7519 4.1.4: an exp within the leeway is taken");

    /* fuzz_jwt: NULL + 0 in whoever walks the scopes (UBSan) */
    check(jwt.scope.len == 0 && jwt.scope.data != NULL,
          "no scope claim: an empty scope, not a NULL one");

    rc = jwt_check("{\"alg\":\"HS256\",\"typ\":\"at+JWT\",\"kid\":\"k\"}",
                   "{" GOOD ",\"exp\":1000300,\"nbf\":1000050}", &jwt);
    check(rc == NGX_OK, "RFC 9068 2.1: typ at+jwt (any case), a kid, "
          "nbf within the leeway: taken");

    jwt_refused("alg none", "{\"alg\":\"none\"}",
                "{" GOOD ",\"exp\":1000300}", "unsupported algorithm");
    jwt_refused("alg hs256", "{\"alg\":\"hs256\"}",
                "{" GOOD ",\"exp\":1000300}", "unsupported algorithm");
    jwt_refused("alg RS256 for a secret", "{\"alg\":\"RS256\"}",
                "{" GOOD ",\"exp\":1000300}", "unknown key");
    jwt_refused("alg not a string", "{\"alg\":256}",
                "{" GOOD ",\"exp\":1000300}", "unsupported algorithm");
    jwt_refused("crit (RFC 7515 4.1.11)",
                "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
                "{" GOOD ",\"exp\":1000300}", "unsupported critical header");
    jwt_refused("typ dpop+jwt", "{\"alg\":\"HS256\",\"typ\":\"dpop+jwt\"}",
                "{" GOOD ",\"exp\":1000300}", "not an access token");
    jwt_refused("kid not a string", "{\"alg\":\"HS256\",\"kid\":1}",
                "{" GOOD ",\"exp\":1000300}", "malformed token");
    jwt_refused("a duplicate header member",
                "{\"alg\":\"HS256\",\"alg\":\"HS256\"}",
                "{" GOOD ",\"exp\":1000300}", "malformed token");
    jwt_refused("header an array", "[\"HS256\"]",
                "{" GOOD ",\"exp\":1000300}", "malformed token");
    jwt_refused("expired", HS, "{" GOOD ",\"exp\":999939}",
                "the token has expired");
    jwt_refused("no exp", HS, "{" GOOD "}", "no expiry");
    jwt_refused("exp a string", HS, "{" GOOD ",\"exp\":\"1000300\"}",
                "no expiry");
    jwt_refused("nbf ahead", HS, "{" GOOD ",\"exp\":1000300,"
                "\"nbf\":1000061}", "the token is not valid yet");
    jwt_refused("nbf a string", HS, "{" GOOD ",\"exp\":1000300,"
                "\"nbf\":\"0\"}", "malformed token");
    jwt_refused("no iss", HS, "{\"aud\":\"" JWT_AUD "\",\"sub\":\"a\","
                "\"exp\":1000300}", "wrong issuer");
    jwt_refused("another iss", HS, "{\"iss\":\"" JWT_ISS "/\",\"aud\":\""
                JWT_AUD "\",\"sub\":\"a\",\"exp\":1000300}", "wrong issuer");
    jwt_refused("no aud (RFC 8707)", HS, "{\"iss\":\"" JWT_ISS "\","
                "\"sub\":\"a\",\"exp\":1000300}", "wrong audience");
    jwt_refused("aud of another resource", HS, "{\"iss\":\"" JWT_ISS "\","
                "\"aud\":\"" JWT_AUD "2\",\"sub\":\"a\",\"exp\":1000300}",
                "wrong audience");
    jwt_refused("aud an array without this resource", HS,
                "{\"iss\":\"" JWT_ISS "\",\"aud\":[\"x\",1],\"sub\":\"a\","
                "\"exp\":1000300}", "wrong audience");
    jwt_refused("no sub", HS, "{\"iss\":\"" JWT_ISS "\",\"aud\":\"" JWT_AUD
                "\",\"exp\":1000300}", "no client claim");
    jwt_refused("sub a number", HS, "{\"iss\":\"" JWT_ISS "\",\"aud\":\""
                JWT_AUD "\",\"sub\":7,\"exp\":1000300}", "no client claim");
    jwt_refused("sub with a quote", HS, "{\"iss\":\"" JWT_ISS "\",\"aud\":\""
                JWT_AUD "\",\"sub\":\"a\\\"b\",\"exp\":1000300}",
                "unusable client claim");
    jwt_refused("sub empty", HS, "{\"iss\":\"" JWT_ISS "\",\"aud\":\""
                JWT_AUD "\",\"sub\":\"\",\"exp\":1000300}",
                "unusable client claim");
    jwt_refused("scope with a backslash", HS, "{" GOOD ",\"exp\":1000300,"
                "\"scope\":\"a\\\\b\"}", "malformed scope");
    jwt_refused("scope a number", HS, "{" GOOD ",\"exp\":1000300,"
                "\"scope\":1}", "malformed scope");
    jwt_refused("scp with an empty string", HS, "{" GOOD ",\"exp\":1000300,"
                "\"scp\":[\"\"]}", "malformed scope");
    jwt_refused("scp with two scopes in one element", HS,
                "{" GOOD ",\"exp\":1000300,\"scp\":[\"a b\"]}",
                "malformed scope");
    jwt_refused("claims an array", HS, "[1]", "malformed token");
    jwt_refused("a duplicate claim (sub twice)", HS,
                "{" GOOD ",\"exp\":1000300,\"sub\":\"mallory\"}",
                "malformed token");

    /* 129 bytes of sub */

    {
        char  claims[512];

        ngx_memzero(claims, sizeof(claims));
        ngx_snprintf((u_char *) claims, sizeof(claims) - 1,
                     "{\"iss\":\"" JWT_ISS "\",\"aud\":\"" JWT_AUD "\","
                     "\"exp\":1000300,\"sub\":\"%*s\"}",
                     (size_t) 129, (u_char *)
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        jwt_refused("sub of 129 bytes", HS, claims, "unusable client claim");
    }

    /* forms of the token itself */

    token = jwt_make(HS, "{" GOOD ",\"exp\":1000300}", JWT_SECRET);

    {
        static const char  *forms[] = {
            "", "a", "a.b", "a.b.c.d", ".b.c", "a..c", "a.b.",
            "eyJhbGciOiJIUzI1NiJ9.e30=.c2ln", "eyJhbGciOiJIUzI1NiJ9.e3+.c2ln",
            "eyJhbGciOiJIUzI1NiJ9.e30.c2l", "x\x80y.e30.c2ln",
            NULL
        };

        for (i = 0; forms[i]; i++) {
            ngx_str_t  t;

            t.data = (u_char *) forms[i];
            t.len = strlen(forms[i]);

            rc = ngx_http_mcp_jwt_verify(pool, &jwt_policy, &t, 1000000,
                                         &jwt);
            check(rc == NGX_DECLINED,
                  "RFC 7515 7.1: \"%s\" is not a token", forms[i]);
        }
    }

    /* the signature: another secret, cut short, one more character */

    {
        ngx_str_t  t;

        t = jwt_make(HS, "{" GOOD ",\"exp\":1000300}",
                     "another secret, 32 bytes long..!");
        rc = ngx_http_mcp_jwt_verify(pool, &jwt_policy, &t, 1000000, &jwt);
        check(rc == NGX_DECLINED && strcmp(jwt.error, "invalid signature")
                                    == 0,
              "RFC 7515: signed with another secret: invalid signature");

        /* RFC 4648 3.5: the last character's unused bits must be zero */

        t.data = ngx_pnalloc(pool, token.len);
        ngx_memcpy(t.data, token.data, token.len);
        t.len = token.len;
        t.data[t.len - 1] = (t.data[t.len - 1] == 'A') ? 'B'
                            : (t.data[t.len - 1] == 'B') ? 'C' : 'A';
        rc = ngx_http_mcp_jwt_verify(pool, &jwt_policy, &t, 1000000, &jwt);
        check(rc == NGX_DECLINED,
              "RFC 4648 3.5: another spelling of the signature is refused");

        t = token;
        t.len -= 2;
        rc = ngx_http_mcp_jwt_verify(pool, &jwt_policy, &t, 1000000, &jwt);
        check(rc == NGX_DECLINED, "a signature cut short is refused");

        t.data = ngx_pnalloc(pool, token.len + 8192);
        ngx_memcpy(t.data, token.data, token.len);
        t.data[token.len] = 'A';
        t.len = token.len + 1;
        rc = ngx_http_mcp_jwt_verify(pool, &jwt_policy, &t, 1000000, &jwt);
        check(rc == NGX_DECLINED, "a signature one character longer too");

        ngx_memset(t.data + token.len, 'A', 8192);
        t.len = NGX_HTTP_MCP_JWT_MAX + 1;
        rc = ngx_http_mcp_jwt_verify(pool, &jwt_policy, &t, 1000000, &jwt);
        check(rc == NGX_DECLINED && strcmp(jwt.error, "malformed token") == 0,
              "a token over 8192 bytes is malformed");
    }

    check(ngx_http_mcp_jwt_shaped(&token), "a JWS has the shape of one");

    {
        ngx_str_t  t = ngx_string("abc.def");

        check(!ngx_http_mcp_jwt_shaped(&t), "a static token has not");
    }

    /* JWKS files (RFC 7517) */

    {
        static const struct {
            const char  *text;
            const char  *error;
        } jwks[] = {
            { "not json", "is not JSON" },
            { "{}", "has no \"keys\" array" },
            { "{\"keys\":{}}", "has no \"keys\" array" },
            { "{\"keys\":[]}", "has no key for RS256, ES256 or EdDSA" },
            { "{\"keys\":[1]}", "has a key that is not an object" },
            { "{\"keys\":[{\"kty\":1}]}", NULL },
            { "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\"}]}", NULL },
            { "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\","
              "\"y\":\"AA\"}]}", "has no key for RS256, ES256 or EdDSA" },
            { "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\","
              "\"y\":\"AA\"}]}", NULL },
            { "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
              "\"x\":\"AAAA\"}]}", NULL },
            { "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"use\":\"enc\","
              "\"x\":\"AAAA\"}]}", "has no key for RS256, ES256 or EdDSA" },
            { "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
              "\"alg\":\"RS256\",\"x\":\"AAAA\"}]}",
              "has no key for RS256, ES256 or EdDSA" },
            { "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}",
              "has no key for RS256, ES256 or EdDSA" },
            /* RSA, e = 1: anyone could sign; n = 2^2048 - 1 */
            { "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQ\",\"n\":\""
              RSA_ONES "\"}]}",
              "has an RSA key OpenSSL finds unsound (its exponent or "
              "modulus)" },
            /* a point off the curve: (1, 1) */
            { "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
              "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\","
              "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}]}",
              "has a key OpenSSL refuses (not a valid public key)" },
            { NULL, NULL }
        };

        for (i = 0; jwks[i].text; i++) {
            char  *err;

            ngx_array_init(&keys, pool, 2, sizeof(ngx_http_mcp_jwk_t));

            err = ngx_http_mcp_jwks_parse(pool, ngx_cycle->log,
                                          (u_char *) jwks[i].text,
                                          strlen(jwks[i].text), &keys);

            if (jwks[i].error) {
                check(err && strcmp(err, jwks[i].error) == 0
                      && keys.nelts == 0,
                      "RFC 7517: JWKS %s: \"%s\"", jwks[i].text,
                      jwks[i].error);

            } else {
                check(err != NULL && keys.nelts == 0,
                      "RFC 7517: JWKS %s is refused", jwks[i].text);
            }

            if (err) {
                diag("%s", err);
            }
        }
    }
}


static void
test_traceparent(void)
{
    ngx_int_t   rc;
    u_char      out[NGX_HTTP_MCP_TRACEPARENT_LEN + 1];
    u_char     *trace = (u_char *) "0123456789abcdef0123456789abcdef";
    u_char     *span = (u_char *) "fedcba9876543210";

#define trace_is(in, want_rc, want, name)                                   \
    ngx_memzero(out, sizeof(out));                                          \
    rc = ngx_http_mcp_traceparent((u_char *) in, sizeof(in) - 1,            \
                                  trace, span, out);                        \
    is_int(rc, want_rc, name ": continued or not");                         \
    is_str((char *) out, want, name)

    /* W3C Trace Context, 3.2 traceparent */

    trace_is("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
             NGX_OK,
             "00-4bf92f3577b34da6a3ce929d0e0e4736-fedcba9876543210-01",
             "traceparent: a client's trace is continued, our span its "
             "parent");
    trace_is("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
             NGX_OK,
             "00-4bf92f3577b34da6a3ce929d0e0e4736-fedcba9876543210-00",
             "traceparent: not sampled stays not sampled");
    trace_is("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03",
             NGX_OK,
             "00-4bf92f3577b34da6a3ce929d0e0e4736-fedcba9876543210-01",
             "traceparent: of the flags only sampled is kept");
    trace_is("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz",
             NGX_OK,
             "00-4bf92f3577b34da6a3ce929d0e0e4736-fedcba9876543210-01",
             "traceparent: a later version is read as 00");
    trace_is("", NGX_DECLINED,
             "00-0123456789abcdef0123456789abcdef-fedcba9876543210-01",
             "traceparent: none: a new trace, the request id its id");

    trace_is("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
             NGX_DECLINED,
             "00-0123456789abcdef0123456789abcdef-fedcba9876543210-01",
             "traceparent: version 00 with more after it: a new trace");
    trace_is("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
             NGX_DECLINED,
             "00-0123456789abcdef0123456789abcdef-fedcba9876543210-01",
             "traceparent: version ff is invalid: a new trace");
    trace_is("00-00000000000000000000000000000000-00f067aa0ba902b7-01",
             NGX_DECLINED,
             "00-0123456789abcdef0123456789abcdef-fedcba9876543210-01",
             "traceparent: an all-zero trace id: a new trace");
    trace_is("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
             NGX_DECLINED,
             "00-0123456789abcdef0123456789abcdef-fedcba9876543210-01",
             "traceparent: an all-zero parent id: a new trace");
    trace_is("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
             NGX_DECLINED,
             "00-0123456789abcdef0123456789abcdef-fedcba9876543210-01",
             "traceparent: uppercase hex: a new trace");
    trace_is("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
             NGX_DECLINED,
             "00-0123456789abcdef0123456789abcdef-fedcba9876543210-01",
             "traceparent: a short trace id: a new trace");
    trace_is("00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
             NGX_DECLINED,
             "00-0123456789abcdef0123456789abcdef-fedcba9876543210-01",
             "traceparent: other separators: a new trace");
    trace_is("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
             NGX_DECLINED,
             "00-0123456789abcdef0123456789abcdef-fedcba9876543210-01",
             "traceparent: flags not hex: a new trace");

#undef trace_is
}


static void
test_token_line(void)
{
    ngx_int_t     rc;
    ngx_str_t     name, *scope;
    ngx_array_t  *scopes;
    u_char        digest[NGX_HTTP_MCP_TOKEN_DIGEST_LEN];

#define HEX64 "1184cb9aabbffbcc7e1af48c4ec1fad78bef12c8b411181265ae39fd5cbe7e63"

#define token_rc(line, want, what)                                          \
    scopes = ngx_array_create(pool, 2, sizeof(ngx_str_t));                  \
    rc = ngx_http_mcp_token_line((u_char *) line,                           \
                                 (u_char *) line + sizeof(line) - 1,        \
                                 &name, digest, scopes);                    \
    is_int(rc, want, what)

    token_rc("alice " HEX64 " tools:call read\r", NGX_OK,
             "token file: name, digest, two scopes (CRLF)");
    is_int(name.len == 5 && ngx_strncmp(name.data, "alice", 5) == 0, 1,
           "token file: the name");
    is_int(digest[0] == 0x11 && digest[31] == 0x63, 1,
           "token file: the digest, from its hex");
    scope = scopes->elts;
    is_int(scopes->nelts == 2 && scope[1].len == 4
           && ngx_strncmp(scope[1].data, "read", 4) == 0, 1,
           "token file: the scopes, without the CR");

    token_rc("\t bob\t" HEX64, NGX_OK, "token file: tabs and spaces");
    is_int(scopes->nelts, 0, "token file: no scope");
    token_rc("", NGX_DECLINED, "token file: an empty line");
    token_rc("   \t", NGX_DECLINED, "token file: a blank line");
    token_rc("# alice " HEX64, NGX_DECLINED, "token file: a comment");
    token_rc("alice", NGX_ERROR, "token file: a name alone");
    token_rc("alice 1184cb9a", NGX_ERROR, "token file: a short digest");
    token_rc("alice " HEX64 "00", NGX_ERROR, "token file: a long digest");
    token_rc("alice x184cb9aabbffbcc7e1af48c4ec1fad78"
             "bef12c8b411181265ae39fd5cbe7e63",
             NGX_ERROR, "token file: a digest not hex");
    token_rc("al:ce " HEX64, NGX_ERROR,
             "token file: \":\" in a name (JWT principals have it)");
    token_rc("a\x01" "ce " HEX64, NGX_ERROR,
             "token file: a control character");
    token_rc("alice " HEX64 " sc\xc3\xa9pe", NGX_ERROR,
             "token file: a scope outside visible ASCII");
#define A32 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

    token_rc(A32 A32 " " HEX64, NGX_OK, "token file: a name of 64 bytes");
    token_rc(A32 A32 "a " HEX64, NGX_ERROR,
             "token file: a name of 65 bytes");

#undef A32

#undef token_rc
#undef HEX64
}


int
main(int argc, char **argv)
{
    ngx_runtime_init();

    pool = ngx_runtime_pool();
    if (pool == NULL) {
        fprintf(stderr, "core_test: no memory\n");
        return 2;
    }

    setvbuf(stdout, NULL, _IOLBF, 0);

    test_depth();
    test_parse();
    test_classify();
    test_responses();
    test_versions();
    test_initialize();
    test_tools_list();
    test_tool_find();
    test_schema();
    test_tool_result();
    test_json_text();
    test_traceparent();
    test_token_line();
    test_jwt();

    printf("1..%u\n", (unsigned) tests);

    ngx_destroy_pool(pool);

    if (failures) {
        printf("# %u of %u tests failed\n", (unsigned) failures,
               (unsigned) tests);
        return 1;
    }

    return 0;
}
