
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_mcp_jsonrpc.h"


static ngx_int_t ngx_http_mcp_json_scan(u_char *data, size_t len,
    ngx_uint_t max_depth, ngx_uint_t max_values);


/*
 * JSON-RPC 2.0 framing as MCP uses it: parsing with limits, classifying
 * messages, building responses.  Nothing here knows about HTTP requests,
 * so it can be driven directly by unit tests and fuzzers.
 */


static ngx_int_t
ngx_http_mcp_json_scan(u_char *data, size_t len, ngx_uint_t max_depth,
    ngx_uint_t max_values)
{
    u_char      *p, *last;
    ngx_uint_t   depth, values, in_string;

    /*
     * One pass over the text before jansson sees it.  jansson recurses
     * once per nesting level, and a parsed value costs tens of bytes of
     * its memory, so a short body such as "[{},{},...]" grows many times
     * in the parser: nesting, and objects, arrays and the commas between
     * members, are bounded here.
     */

    depth = 0;
    values = 0;
    in_string = 0;
    last = data + len;

    for (p = data; p < last; p++) {

        if (in_string) {
            if (*p == '\\') {
                p++;

            } else if (*p == '"') {
                in_string = 0;
            }

            continue;
        }

        switch (*p) {

        case '"':
            in_string = 1;
            break;

        case '{':
        case '[':
            if (++depth > max_depth) {
                return NGX_DECLINED;
            }

            /* fall through */

        case ',':
            if (++values > max_values) {
                return NGX_ABORT;
            }
            break;

        case '}':
        case ']':
            if (depth) {
                depth--;
            }
            break;

        default:
            break;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_json_depth(u_char *data, size_t len, ngx_uint_t max_depth)
{
    return ngx_http_mcp_json_scan(data, len, max_depth, NGX_MAX_UINT32_VALUE)
           == NGX_DECLINED ? NGX_DECLINED : NGX_OK;
}


ngx_int_t
ngx_http_mcp_json_values(u_char *data, size_t len, ngx_uint_t max_values)
{
    return ngx_http_mcp_json_scan(data, len, NGX_MAX_UINT32_VALUE, max_values)
           == NGX_ABORT ? NGX_DECLINED : NGX_OK;
}


json_t *
ngx_http_mcp_json_parse(u_char *data, size_t len, ngx_uint_t max_depth,
    char *err)
{
    json_t        *json;
    json_error_t   jerr;

    if (ngx_http_mcp_json_depth(data, len, max_depth) != NGX_OK) {
        *ngx_snprintf((u_char *) err, NGX_HTTP_MCP_ERRLEN - 1,
                      "JSON nested deeper than %ui levels", max_depth) = '\0';
        return NULL;
    }

    /*
     * JSON_DECODE_ANY: a bare scalar is valid JSON but an invalid request;
     * JSON_ALLOW_NUL: "\u0000" is valid JSON, and we compare by length.
     */

    json = json_loadb((const char *) data, len,
                      JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

    if (json == NULL) {
        *ngx_snprintf((u_char *) err, NGX_HTTP_MCP_ERRLEN - 1,
                      "%s at line %d column %d",
                      jerr.text, jerr.line, jerr.column) = '\0';
    }

    return json;
}


void
ngx_http_mcp_msg_classify(json_t *json, ngx_http_mcp_msg_t *msg)
{
    json_t  *v, *id;

    ngx_memzero(msg, sizeof(ngx_http_mcp_msg_t));

    msg->json = json;
    msg->kind = NGX_HTTP_MCP_MSG_INVALID;

    if (!json_is_object(json)) {
        msg->error = "message is not a JSON object";
        return;
    }

    id = json_object_get(json, "id");

    if (id != NULL) {
        /* MCP: "the ID MUST be a string or integer", never null */

        if (!json_is_string(id) && !json_is_integer(id)) {
            msg->error = "\"id\" must be a string or an integer";
            return;
        }

        /* ids travel in headers and logs: keep them reasonable */

        if (json_is_string(id)
            && json_string_length(id) > NGX_HTTP_MCP_ID_MAX)
        {
            msg->error = "\"id\" is longer than 256 bytes";
            return;
        }

        msg->id = id;
    }

    v = json_object_get(json, "jsonrpc");

    if (!json_is_string(v) || json_string_length(v) != 3
        || ngx_strncmp(json_string_value(v), "2.0", 3) != 0)
    {
        msg->error = "\"jsonrpc\" must be \"2.0\"";
        return;
    }

    v = json_object_get(json, "method");

    if (v != NULL) {
        if (!json_is_string(v)) {
            msg->error = "\"method\" must be a string";
            return;
        }

        /* method names travel in logs and variables: they are bounded */

        if (json_string_length(v) > NGX_HTTP_MCP_METHOD_MAX) {
            msg->error = "\"method\" is longer than 256 bytes";
            return;
        }

        msg->method.data = (u_char *) json_string_value(v);
        msg->method.len = json_string_length(v);

        v = json_object_get(json, "params");

        if (v != NULL && !json_is_object(v) && !json_is_array(v)) {
            msg->error = "\"params\" must be an object";
            return;
        }

        msg->params = v;
        msg->kind = id ? NGX_HTTP_MCP_MSG_REQUEST
                       : NGX_HTTP_MCP_MSG_NOTIFICATION;
        return;
    }

    /* a response has a result or an error object, never both */

    v = json_object_get(json, "error");

    if (id != NULL
        && (json_object_get(json, "result") != NULL) != (v != NULL)
        && (v == NULL || json_is_object(v)))
    {
        msg->kind = NGX_HTTP_MCP_MSG_RESPONSE;
        return;
    }

    msg->error = "message is neither a request, a notification "
                 "nor a response";
}


ngx_int_t
ngx_http_mcp_method_is(ngx_http_mcp_msg_t *msg, const char *name)
{
    size_t  len;

    len = ngx_strlen(name);

    return msg->method.len == len
           && ngx_strncmp(msg->method.data, name, len) == 0;
}


json_t *
ngx_http_mcp_response(json_t *id, json_t *result)
{
    /* takes the reference to result */

    if (result == NULL) {
        return NULL;
    }

    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0",
                     "id", id ? id : json_null(), "result", result);
}


json_t *
ngx_http_mcp_error(json_t *id, ngx_int_t code, const char *message)
{
    size_t   i;
    json_t  *text;
    u_char   safe[NGX_HTTP_MCP_ERRLEN * 2];

    /*
     * Messages may quote client input cut at a byte limit; a message
     * that is not UTF-8 is sent with its non-ASCII bytes as '?'.
     */

    text = json_string(message);

    if (text == NULL) {
        for (i = 0; message[i] && i < sizeof(safe) - 1; i++) {
            safe[i] = ((u_char) message[i] < 0x80) ? message[i] : '?';
        }

        safe[i] = '\0';

        text = json_string((char *) safe);
        if (text == NULL) {
            return NULL;
        }
    }

    return json_pack("{s:s, s:O, s:{s:I, s:o}}", "jsonrpc", "2.0",
                     "id", id ? id : json_null(),
                     "error", "code", (json_int_t) code, "message", text);
}
