
/*
 * Copyright (C) ngx_mcp_module authors
 */


/*
 * libFuzzer target for the module's request-free protocol core.  Each
 * input is used twice:
 *
 *   as a client's message: parsed with the depth limit and classified
 *   (each element of a batch too); a request's params go to version
 *   negotiation, tools/list with several page sizes (a nextCursor must
 *   lead to the next page), tools/call's tool lookup and the input schema
 *   check, as the handler dispatches them;
 *
 *   as a tool backend's answer: byte 0 and 1 give the HTTP status, byte 2
 *   the protocol revision, whether the body was too large, which tool
 *   and which content type; with the "raw" content type the type runs up
 *   to the first newline; the rest is the body.
 *
 * Beyond what ASan and UBSan see, the target aborts when an answer the
 * gateway would send breaks a rule of its own: every error text must make
 * a JSON-RPC error object, every tool result must be a well-formed
 * CallToolResult, failures must be isError, structured content must be
 * an object and must be absent for 2025-03-26, and a message classified
 * as valid must be one.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include "ngx_http_mcp_jsonrpc.h"
#include "ngx_http_mcp_protocol.h"
#include "ngx_http_mcp_token.h"
#include "ngx_runtime.h"


#define FUZZ_MAX_DEPTH  32
#define FUZZ_MAX_BATCH  8


static void fuzz_token_line(ngx_pool_t *pool, u_char *data, size_t size);
static void fuzz_sse_data(json_t *json);
static void fuzz_traceparent(u_char *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static ngx_pool_t   *fuzz_conf_pool;
static ngx_array_t  *fuzz_tools;
static json_t       *fuzz_schema;


#define expect(cond)                                                        \
    if (!(cond)) {                                                         \
        fprintf(stderr, "fuzz_core: %s:%d: expected %s\n",                 \
                __FILE__, __LINE__, #cond);                                \
        abort();                                                           \
    }


static void
fuzz_tool(const char *name, const char *input, const char *output)
{
    json_error_t          err;
    ngx_http_mcp_tool_t  *tool;

    tool = ngx_array_push(fuzz_tools);
    expect(tool != NULL);

    ngx_memzero(tool, sizeof(ngx_http_mcp_tool_t));

    tool->name.data = (u_char *) name;
    tool->name.len = strlen(name);
    ngx_str_set(&tool->description, "a tool");
    ngx_str_set(&tool->title, "A tool");

    if (input) {
        tool->input_schema = json_loads(input, 0, &err);
        expect(tool->input_schema != NULL);
    }

    if (output) {
        tool->output_schema = json_loads(output, 0, &err);
        expect(tool->output_schema != NULL);
    }
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    json_error_t  err;

    ngx_runtime_init();

    fuzz_conf_pool = ngx_runtime_pool();
    expect(fuzz_conf_pool != NULL);

    fuzz_tools = ngx_array_create(fuzz_conf_pool, 5,
                                  sizeof(ngx_http_mcp_tool_t));
    expect(fuzz_tools != NULL);

    fuzz_tool("echo",
              "{\"type\":\"object\",\"properties\":{\"message\":"
              "{\"type\":\"string\"}},\"required\":[\"message\"],"
              "\"additionalProperties\":false}",
              NULL);
    fuzz_tool("add",
              "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
              "\"number\"},\"b\":{\"type\":\"integer\"}},"
              "\"required\":[\"a\",\"b\"]}",
              NULL);
    fuzz_tool("typed", NULL,
              "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":"
              "\"integer\"},\"s\":{\"type\":[\"string\",\"null\"]}},"
              "\"required\":[\"n\"]}");
    fuzz_tool("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
              "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
              "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
              "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
              "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
              "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
              "{\"properties\":{\"x\":{\"type\":\"array\"}}}",
              "{\"required\":[\"x\"],\"additionalProperties\":false}");
    fuzz_tool("plain", NULL, NULL);

    fuzz_schema = json_loads(
        "{\"type\":\"object\",\"properties\":{"
        "\"s\":{\"type\":\"string\"},\"i\":{\"type\":\"integer\"},"
        "\"n\":{\"type\":\"number\"},\"b\":{\"type\":\"boolean\"},"
        "\"o\":{\"type\":\"object\"},\"a\":{\"type\":\"array\"},"
        "\"z\":{\"type\":\"null\"},\"u\":{\"type\":[\"integer\",\"null\"]},"
        "\"name\":{\"type\":\"string\"},\"arguments\":{\"type\":\"object\"},"
        "\"cursor\":{\"type\":\"string\"}},"
        "\"required\":[\"s\"],\"additionalProperties\":false}", 0, &err);
    expect(fuzz_schema != NULL);

    return 0;
}


/* an error text of the core makes a JSON-RPC error object */

static void
fuzz_error_text(json_t *id, char *err)
{
    json_t  *json;

    expect(memchr(err, '\0', NGX_HTTP_MCP_ERRLEN) != NULL);

    json = ngx_http_mcp_error(id, NGX_HTTP_MCP_INVALID_PARAMS, err);
    expect(json != NULL);
    json_decref(json);
}


/* a CallToolResult as tools#tool-result defines it */

static void
fuzz_content_block(json_t *block)
{
    json_t      *res;
    const char  *type;

    expect(json_is_object(block));

    type = json_string_value(json_object_get(block, "type"));
    expect(type != NULL);

    if (strcmp(type, "text") == 0) {
        expect(json_is_string(json_object_get(block, "text")));

    } else if (strcmp(type, "image") == 0 || strcmp(type, "audio") == 0) {
        expect(json_is_string(json_object_get(block, "data")));
        expect(json_is_string(json_object_get(block, "mimeType")));

    } else if (strcmp(type, "resource") == 0) {
        res = json_object_get(block, "resource");
        expect(json_is_object(res));
        expect(json_is_string(json_object_get(res, "uri")));
        expect(json_is_string(json_object_get(res, "text"))
               || json_is_string(json_object_get(res, "blob")));

    } else {
        expect(strcmp(type, "resource_link") == 0);
        expect(json_is_string(json_object_get(block, "uri")));
        expect(json_is_string(json_object_get(block, "name")));
    }
}


static void
fuzz_call_result(json_t *result, ngx_uint_t version)
{
    char    *text;
    size_t   i;
    json_t  *content, *block, *v;

    expect(json_is_object(result));

    content = json_object_get(result, "content");
    expect(json_is_array(content));

    json_array_foreach(content, i, block) {
        fuzz_content_block(block);
    }

    v = json_object_get(result, "isError");
    expect(v == NULL || json_is_boolean(v));

    v = json_object_get(result, "structuredContent");
    expect(v == NULL || json_is_object(v));
    expect(v == NULL || version >= NGX_HTTP_MCP_V_2025_06_18);

    v = json_object_get(result, "_meta");
    expect(v == NULL || json_is_object(v));

    /* it can be sent */

    text = json_dumps(result, JSON_COMPACT);
    expect(text != NULL);
    free(text);
}


/* tools/list: a page, and the page its nextCursor leads to */

static ngx_uint_t
fuzz_tool_index(json_t *def)
{
    ngx_uint_t            i;
    const char           *name;
    ngx_http_mcp_tool_t  *tool;

    name = json_string_value(json_object_get(def, "name"));
    expect(name != NULL);

    tool = fuzz_tools->elts;

    for (i = 0; i < fuzz_tools->nelts; i++) {
        if (tool[i].name.len == strlen(name)
            && ngx_strncmp(tool[i].name.data, name, tool[i].name.len) == 0)
        {
            return i;
        }
    }

    expect(0);
    return 0;
}


static void
fuzz_tools_list(ngx_pool_t *pool, json_t *id, json_t *params,
    ngx_uint_t page, ngx_uint_t version)
{
    char        err[NGX_HTTP_MCP_ERRLEN];
    json_t     *result, *list, *cursor, *next, *list2, *response;
    size_t      n;
    ngx_uint_t  first;

    result = ngx_http_mcp_tools_list(pool, fuzz_tools, params, page, version,
                                     err);

    if (result == NULL) {
        expect(strcmp(err, "Invalid params: bad cursor") == 0);
        fuzz_error_text(id, err);
        return;
    }

    list = json_object_get(result, "tools");
    expect(json_is_array(list));

    n = json_array_size(list);
    expect(page == 0 || n <= page);

    cursor = json_object_get(result, "nextCursor");

    if (n == 0) {
        expect(cursor == NULL);
        json_decref(result);
        return;
    }

    first = fuzz_tool_index(json_array_get(list, 0));
    expect(fuzz_tool_index(json_array_get(list, n - 1)) == first + n - 1);

    if (cursor == NULL) {
        expect(first + n == fuzz_tools->nelts);

    } else {
        expect(json_is_string(cursor));
        expect(first + n < fuzz_tools->nelts);

        params = json_pack("{s:O}", "cursor", cursor);
        expect(params != NULL);

        next = ngx_http_mcp_tools_list(pool, fuzz_tools, params, page,
                                       version, err);
        expect(next != NULL);

        list2 = json_object_get(next, "tools");
        expect(json_array_size(list2) > 0);
        expect(fuzz_tool_index(json_array_get(list2, 0)) == first + n);

        json_decref(next);
        json_decref(params);
    }

    response = ngx_http_mcp_response(id, result);
    expect(response != NULL);
    json_decref(response);
}


static void
fuzz_request(ngx_pool_t *pool, ngx_http_mcp_msg_t *msg)
{
    char                  err[NGX_HTTP_MCP_ERRLEN];
    u_char                text[NGX_HTTP_MCP_ERRLEN * 2], *p;
    json_t               *args, *empty, *json;
    ngx_int_t             rc;
    ngx_str_t             name, ver, instructions;
    ngx_uint_t            version, page, v;
    ngx_http_mcp_tool_t  *tool;

    static ngx_uint_t     pages[] = { 0, 1, 2, 3, 5 };

    /* methods match exactly, by length */

    expect(ngx_http_mcp_method_is(msg, "tools/call")
           == (msg->method.len == 10
               && memcmp(msg->method.data, "tools/call", 10) == 0));

    version = ngx_http_mcp_version_negotiate(msg->params,
                                             NGX_HTTP_MCP_V_OLDEST);
    expect(version >= NGX_HTTP_MCP_V_OLDEST
           && version <= NGX_HTTP_MCP_V_LATEST);

    name = *ngx_http_mcp_version_name(version);
    expect(ngx_http_mcp_version_parse(name.data, name.len) == version);

    (void) ngx_http_mcp_version_parse(msg->method.data, msg->method.len);

    ngx_str_set(&name, "fuzz");
    ngx_str_set(&ver, "1");
    ngx_str_set(&instructions, "none");

    json = ngx_http_mcp_initialize_result(version, &name, &ver,
                                          &instructions);
    expect(json != NULL);
    json_decref(json);

    for (page = 0; page < sizeof(pages) / sizeof(pages[0]); page++) {
        v = NGX_HTTP_MCP_V_2025_03_26 + page % 3;
        fuzz_tools_list(pool, msg->id, msg->params, pages[page], v);
    }

    /* tools/call as the handler checks it */

    args = NULL;
    tool = ngx_http_mcp_tool_find(fuzz_tools, msg->params, &args, err);

    if (tool == NULL) {
        fuzz_error_text(msg->id, err);

    } else if (tool->input_schema) {
        empty = args ? NULL : json_object();

        rc = ngx_http_mcp_schema_check(tool->input_schema,
                                       args ? args : empty, "arguments",
                                       err);
        json_decref(empty);

        if (rc != NGX_OK) {
            expect(rc == NGX_DECLINED);

            /* 2025-11-25: a tool execution error; before: invalid params */

            p = ngx_snprintf(text, sizeof(text), "Invalid %s%Z", err);
            json = ngx_http_mcp_tool_error(pool, text, p - text - 1);
            expect(json != NULL);
            fuzz_call_result(json, version);
            json_decref(json);

            ngx_snprintf(text, sizeof(text), "Invalid params: %s%Z", err);
            fuzz_error_text(msg->id, (char *) text);
        }
    }

    /* the whole params against a schema of every type */

    if (msg->params) {
        rc = ngx_http_mcp_schema_check(fuzz_schema, msg->params,
                                       "params", err);
        expect(rc == NGX_OK || rc == NGX_DECLINED);

        if (rc == NGX_DECLINED) {
            fuzz_error_text(msg->id, err);
        }
    }
}


static void
fuzz_message(ngx_pool_t *pool, json_t *json)
{
    json_t              *v, *response;
    ngx_http_mcp_msg_t   msg;

    ngx_http_mcp_msg_classify(json, &msg);

    expect(msg.json == json);

    if (msg.kind == NGX_HTTP_MCP_MSG_INVALID) {
        expect(msg.error != NULL);

        response = ngx_http_mcp_error(msg.id, NGX_HTTP_MCP_INVALID_REQUEST,
                                      msg.error);
        expect(response != NULL);
        json_decref(response);
        return;
    }

    expect(msg.error == NULL);

    /* what was taken as a message is one (JSON-RPC 4, 5) */

    v = json_object_get(json, "jsonrpc");
    expect(json_is_string(v) && json_string_length(v) == 3
           && memcmp(json_string_value(v), "2.0", 3) == 0);

    expect(msg.id == NULL || json_is_integer(msg.id)
           || (json_is_string(msg.id)
               && json_string_length(msg.id) <= NGX_HTTP_MCP_ID_MAX));

    if (msg.kind == NGX_HTTP_MCP_MSG_RESPONSE) {
        expect(msg.id != NULL && msg.method.len == 0);
        expect((json_object_get(json, "result") != NULL)
               != (json_object_get(json, "error") != NULL));
        return;
    }

    expect(json_is_string(json_object_get(json, "method")));
    expect(msg.params == NULL || json_is_object(msg.params)
           || json_is_array(msg.params));

    if (msg.kind == NGX_HTTP_MCP_MSG_NOTIFICATION) {
        expect(msg.id == NULL);
        return;
    }

    expect(msg.kind == NGX_HTTP_MCP_MSG_REQUEST && msg.id != NULL);

    /* the handler answers array params before it dispatches */

    if (msg.params && !json_is_object(msg.params)) {
        return;
    }

    fuzz_request(pool, &msg);
}


/*
 * SSE framing: a message goes on a stream as one "data:" line, its
 * compact JSON text, which must hold no line break whatever was parsed.
 */

static void
fuzz_sse_data(json_t *json)
{
    char    *text;
    size_t   len;

    len = json_dumpb(json, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    expect(len > 0);

    text = malloc(len);
    expect(text != NULL);

    expect(json_dumpb(json, text, len, JSON_COMPACT | JSON_ENCODE_ANY)
           == len);
    expect(memchr(text, '\n', len) == NULL);
    expect(memchr(text, '\r', len) == NULL);

    free(text);
}


static void
fuzz_messages(ngx_pool_t *pool, u_char *data, size_t size)
{
    char     err[NGX_HTTP_MCP_ERRLEN];
    u_char   text[NGX_HTTP_MCP_ERRLEN * 2];
    size_t   i;
    json_t  *json, *v, *response;

    json = ngx_http_mcp_json_parse(data, size, FUZZ_MAX_DEPTH, err);

    if (json == NULL) {
        expect(memchr(err, '\0', NGX_HTTP_MCP_ERRLEN) != NULL);

        ngx_snprintf(text, sizeof(text), "Parse error: %s%Z", err);
        response = ngx_http_mcp_error(NULL, NGX_HTTP_MCP_PARSE_ERROR,
                                      (char *) text);
        expect(response != NULL);
        json_decref(response);
        return;
    }

    expect(ngx_http_mcp_json_depth(data, size, FUZZ_MAX_DEPTH) == NGX_OK);

    fuzz_sse_data(json);

    if (json_is_array(json)) {
        json_array_foreach(json, i, v) {
            if (i == FUZZ_MAX_BATCH) {
                break;
            }

            fuzz_message(pool, v);
        }

    } else {
        fuzz_message(pool, json);
    }

    json_decref(json);
}


/* UTF-8 repair */

static void
fuzz_json_text(ngx_pool_t *pool, u_char *data, size_t size)
{
    json_t  *s, *exact;

    s = ngx_http_mcp_json_text(pool, data, size);
    expect(s != NULL);

    exact = json_stringn((const char *) data, size);

    if (exact) {
        expect(json_string_length(s) == size
               && memcmp(json_string_value(s), data, size) == 0);
        json_decref(exact);

    } else {
        expect(json_string_length(s) > 0
               && json_string_length(s) <= size * 3);
    }

    json_decref(s);
}


/* a tool backend's answer */

static const char  *fuzz_types[] = {
    NULL,                                       /* from the input */
    "application/json",
    NGX_HTTP_MCP_RESULT_TYPE,
    "application/json; charset=utf-8",
    "text/plain",
    "",
    "Application/VND.MCP.Tool-Result+JSON ;charset=utf-8",
    "application/json\t; x=y"
};


static void
fuzz_reply(ngx_pool_t *pool, u_char *data, size_t size)
{
    u_char                flags, *p, *last;
    json_t               *result, *structured;
    ngx_uint_t            version, failed;
    ngx_http_mcp_tool_t  *tool;
    ngx_http_mcp_reply_t  reply;

    static ngx_uint_t     versions[] = {
        NGX_HTTP_MCP_V_2025_03_26, NGX_HTTP_MCP_V_2025_06_18,
        NGX_HTTP_MCP_V_2025_11_25, NGX_HTTP_MCP_V_2025_11_25
    };

    if (size < 3) {
        return;
    }

    ngx_memzero(&reply, sizeof(ngx_http_mcp_reply_t));

    reply.status = 100 + ((data[0] << 8 | data[1]) % 500);
    flags = data[2];

    version = versions[flags & 3];
    reply.too_large = (flags >> 2) & 1;
    tool = (ngx_http_mcp_tool_t *) fuzz_tools->elts + ((flags >> 3) & 3) + 1;

    p = data + 3;
    last = data + size;

    if (fuzz_types[flags >> 5]) {
        reply.content_type.data = (u_char *) fuzz_types[flags >> 5];
        reply.content_type.len = strlen(fuzz_types[flags >> 5]);

    } else {
        reply.content_type.data = p;

        while (p < last && *p != '\n') {
            p++;
        }

        reply.content_type.len = p - reply.content_type.data;

        if (p < last) {
            p++;
        }
    }

    reply.body = (p < last) ? p : NULL;
    reply.len = last - p;
    reply.limit = size;

    result = ngx_http_mcp_tool_result(pool, tool, &reply, FUZZ_MAX_DEPTH,
                                      version);
    expect(result != NULL);

    fuzz_call_result(result, version);

    failed = reply.too_large || reply.status < 200 || reply.status > 299;

    if (failed) {
        expect(json_is_true(json_object_get(result, "isError")));
        expect(json_object_get(result, "structuredContent") == NULL);
    }

    /* an output schema: structured content that passes, or an error */

    if (tool->output_schema
        && version >= NGX_HTTP_MCP_V_2025_06_18
        && !json_is_true(json_object_get(result, "isError")))
    {
        structured = json_object_get(result, "structuredContent");
        expect(structured != NULL);
    }

    json_decref(result);
}


/* any client traceparent gives a well-formed one, continued or new */

static void
fuzz_traceparent(u_char *data, size_t size)
{
    size_t      i;
    ngx_int_t   rc;
    u_char      out[NGX_HTTP_MCP_TRACEPARENT_LEN];

    rc = ngx_http_mcp_traceparent(data, size,
                                  (u_char *) "0123456789abcdef"
                                             "0123456789abcdef",
                                  (u_char *) "fedcba9876543210", out);

    expect(rc == NGX_OK || rc == NGX_DECLINED);
    expect(memcmp(out, "00-", 3) == 0 && out[35] == '-' && out[52] == '-');
    expect(memcmp(out + 36, "fedcba9876543210", 16) == 0);

    for (i = 3; i < NGX_HTTP_MCP_TRACEPARENT_LEN; i++) {
        expect(out[i] == '-' || (out[i] >= '0' && out[i] <= '9')
               || (out[i] >= 'a' && out[i] <= 'f'));
    }

    if (rc == NGX_OK) {
        expect(size >= NGX_HTTP_MCP_TRACEPARENT_LEN);
        expect(memcmp(out + 3, data + 3, 32) == 0);
    }
}


/* a token file line of any bytes: a client whose parts are in the line */

static void
fuzz_token_line(ngx_pool_t *pool, u_char *data, size_t size)
{
    ngx_int_t     rc;
    ngx_str_t     name, *scope;
    ngx_uint_t    i;
    ngx_array_t  *scopes;
    u_char        digest[NGX_HTTP_MCP_TOKEN_DIGEST_LEN];

    scopes = ngx_array_create(pool, 2, sizeof(ngx_str_t));
    expect(scopes != NULL);

    rc = ngx_http_mcp_token_line(data, data + size, &name, digest, scopes);

    expect(rc == NGX_OK || rc == NGX_DECLINED || rc == NGX_ERROR);

    if (rc != NGX_OK) {
        return;
    }

    expect(name.len > 0 && name.len <= NGX_HTTP_MCP_TOKEN_NAME_MAX);
    expect(name.data >= data && name.data + name.len <= data + size);
    expect(memchr(name.data, ':', name.len) == NULL);

    scope = scopes->elts;

    for (i = 0; i < scopes->nelts; i++) {
        expect(scope[i].len > 0);
        expect(scope[i].data >= data
               && scope[i].data + scope[i].len <= data + size);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *copy;
    ngx_pool_t  *pool;

    pool = ngx_runtime_pool();
    expect(pool != NULL);

    /* the core takes u_char *; an exact copy keeps overreads visible */

    copy = malloc(size ? size : 1);
    expect(copy != NULL);

    if (size) {
        memcpy(copy, data, size);
    }

    fuzz_messages(pool, copy, size);
    fuzz_json_text(pool, copy, size);
    fuzz_reply(pool, copy, size);
    fuzz_traceparent(copy, size);
    fuzz_token_line(pool, copy, size);

    free(copy);
    ngx_destroy_pool(pool);

    return 0;
}
