
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_mcp_protocol.h"


/*
 * MCP decisions that need no live request: version negotiation, the
 * initialize result, tools/list pages, tools/call parameters and the
 * mapping of a tool backend's HTTP answer to a CallToolResult.
 */


#define NGX_HTTP_MCP_CURSOR_PREFIX  "tools:"


static json_t *ngx_http_mcp_tool_definition(ngx_http_mcp_tool_t *tool,
    ngx_uint_t version);
static ngx_int_t ngx_http_mcp_cursor_decode(json_t *cursor, ngx_uint_t n,
    ngx_uint_t *offset);
static json_t *ngx_http_mcp_cursor_encode(ngx_pool_t *pool,
    ngx_uint_t offset);
static ngx_int_t ngx_http_mcp_json_type_is(json_t *value, const char *type);
static const char *ngx_http_mcp_content_check(json_t *block);
static const char *ngx_http_mcp_result_check(json_t *result);
static json_t *ngx_http_mcp_text_block(ngx_pool_t *pool, u_char *text,
    size_t len);
static size_t ngx_http_mcp_utf8_len(u_char *p, u_char *last);
static ngx_int_t ngx_http_mcp_trace_hex(u_char *p, size_t n);
static ngx_int_t ngx_http_mcp_media_type_is(ngx_str_t *type,
    const char *name);


static ngx_str_t  ngx_http_mcp_versions[] = {
    ngx_null_string,
    ngx_string("2024-11-05"),
    ngx_string("2025-03-26"),
    ngx_string("2025-06-18"),
    ngx_string("2025-11-25")
};


ngx_uint_t
ngx_http_mcp_version_parse(u_char *data, size_t len)
{
    ngx_uint_t  v;

    for (v = NGX_HTTP_MCP_V_OLDEST; v <= NGX_HTTP_MCP_V_LATEST; v++) {
        if (ngx_http_mcp_versions[v].len == len
            && ngx_strncmp(ngx_http_mcp_versions[v].data, data, len) == 0)
        {
            return v;
        }
    }

    return NGX_HTTP_MCP_V_UNKNOWN;
}


ngx_str_t *
ngx_http_mcp_version_name(ngx_uint_t version)
{
    return &ngx_http_mcp_versions[version];
}


u_char *
ngx_http_mcp_versions_text(u_char *buf, u_char *last, ngx_uint_t oldest)
{
    ngx_uint_t  v;

    for (v = oldest; v <= NGX_HTTP_MCP_V_LATEST; v++) {
        buf = ngx_slprintf(buf, last, "%s%V", v == oldest ? "" : ", ",
                           &ngx_http_mcp_versions[v]);
    }

    return buf;
}


ngx_uint_t
ngx_http_mcp_version_negotiate(json_t *params, ngx_uint_t oldest)
{
    json_t      *v;
    ngx_uint_t   version;

    /*
     * Lifecycle, version negotiation: answer with the client's version
     * when it is supported on the transport in use (2024-11-05 only
     * over HTTP with SSE), otherwise with the latest one we support.
     */

    v = json_object_get(params, "protocolVersion");

    version = ngx_http_mcp_version_parse((u_char *) json_string_value(v),
                                         json_string_length(v));

    return version >= oldest ? version : NGX_HTTP_MCP_V_LATEST;
}


json_t *
ngx_http_mcp_initialize_result(ngx_uint_t version, ngx_str_t *name,
    ngx_str_t *ver, ngx_str_t *instructions)
{
    json_t  *result;

    result = json_pack("{s:s%, s:{s:{s:b}}, s:{s:s%, s:s%}}",
                       "protocolVersion",
                       ngx_http_mcp_versions[version].data,
                       ngx_http_mcp_versions[version].len,
                       "capabilities", "tools", "listChanged", 0,
                       "serverInfo",
                       "name", name->data, name->len,
                       "version", ver->data, ver->len);

    if (result != NULL && instructions->len) {
        if (json_object_set_new(result, "instructions",
                                json_stringn((char *) instructions->data,
                                             instructions->len))
            != 0)
        {
            json_decref(result);
            return NULL;
        }
    }

    return result;
}


static json_t *
ngx_http_mcp_tool_definition(ngx_http_mcp_tool_t *tool, ngx_uint_t version)
{
    json_t  *def;

    def = json_pack("{s:s%}", "name", tool->name.data, tool->name.len);
    if (def == NULL) {
        return NULL;
    }

    if (tool->title.len && version >= NGX_HTTP_MCP_V_2025_06_18) {
        json_object_set_new(def, "title",
                            json_stringn((char *) tool->title.data,
                                         tool->title.len));
    }

    if (tool->description.len) {
        json_object_set_new(def, "description",
                            json_stringn((char *) tool->description.data,
                                         tool->description.len));
    }

    if (tool->input_schema) {
        json_object_set(def, "inputSchema", tool->input_schema);

    } else {
        json_object_set_new(def, "inputSchema",
                            json_pack("{s:s}", "type", "object"));
    }

    if (tool->output_schema && version >= NGX_HTTP_MCP_V_2025_06_18) {
        json_object_set(def, "outputSchema", tool->output_schema);
    }

    return def;
}


static ngx_int_t
ngx_http_mcp_cursor_decode(json_t *cursor, ngx_uint_t n, ngx_uint_t *offset)
{
    u_char     buf[64];
    ngx_int_t  off;
    ngx_str_t  src, dst;
    size_t     plen;

    if (!json_is_string(cursor)) {
        return NGX_ERROR;
    }

    src.data = (u_char *) json_string_value(cursor);
    src.len = json_string_length(cursor);

    if (src.len == 0 || ngx_base64_decoded_length(src.len) > sizeof(buf)) {
        return NGX_ERROR;
    }

    dst.data = buf;

    if (ngx_decode_base64url(&dst, &src) != NGX_OK) {
        return NGX_ERROR;
    }

    plen = sizeof(NGX_HTTP_MCP_CURSOR_PREFIX) - 1;

    if (dst.len <= plen
        || ngx_strncmp(dst.data, NGX_HTTP_MCP_CURSOR_PREFIX, plen) != 0)
    {
        return NGX_ERROR;
    }

    off = ngx_atoi(dst.data + plen, dst.len - plen);

    if (off <= 0 || (ngx_uint_t) off >= n) {
        return NGX_ERROR;
    }

    *offset = off;

    return NGX_OK;
}


static json_t *
ngx_http_mcp_cursor_encode(ngx_pool_t *pool, ngx_uint_t offset)
{
    u_char     buf[64], out[96];
    ngx_str_t  src, dst;

    src.data = buf;
    src.len = ngx_sprintf(buf, NGX_HTTP_MCP_CURSOR_PREFIX "%ui", offset)
              - buf;

    dst.data = out;
    ngx_encode_base64url(&dst, &src);

    return json_stringn((char *) dst.data, dst.len);
}


json_t *
ngx_http_mcp_tools_list(ngx_pool_t *pool, ngx_array_t *tools,
    json_t *params, ngx_uint_t page, ngx_uint_t version, char *err)
{
    json_t               *result, *list, *cursor, *def;
    ngx_uint_t            i, n, offset, end;
    ngx_http_mcp_tool_t  *tool;

    n = tools ? tools->nelts : 0;
    offset = 0;

    cursor = params ? json_object_get(params, "cursor") : NULL;

    if (cursor != NULL && !json_is_null(cursor)
        && ngx_http_mcp_cursor_decode(cursor, n, &offset) != NGX_OK)
    {
        ngx_cpystrn((u_char *) err, (u_char *) "Invalid params: bad cursor",
                    NGX_HTTP_MCP_ERRLEN);
        return NULL;
    }

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    end = (page && n - offset > page) ? offset + page : n;
    tool = tools ? tools->elts : NULL;

    for (i = offset; i < end; i++) {
        def = ngx_http_mcp_tool_definition(&tool[i], version);
        if (def == NULL || json_array_append_new(list, def) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    result = json_pack("{s:o}", "tools", list);
    if (result == NULL) {
        return NULL;
    }

    if (end < n) {
        if (json_object_set_new(result, "nextCursor",
                                ngx_http_mcp_cursor_encode(pool, end))
            != 0)
        {
            json_decref(result);
            return NULL;
        }
    }

    return result;
}


ngx_http_mcp_tool_t *
ngx_http_mcp_tool_find(ngx_array_t *tools, json_t *params, json_t **args,
    char *err)
{
    json_t               *name;
    size_t                len;
    ngx_http_mcp_tool_t  *tool;

    name = params ? json_object_get(params, "name") : NULL;

    if (!json_is_string(name)) {
        ngx_cpystrn((u_char *) err, (u_char *)
                    "Invalid params: \"name\" must be a string",
                    NGX_HTTP_MCP_ERRLEN);
        return NULL;
    }

    *args = json_object_get(params, "arguments");

    if (*args != NULL && !json_is_object(*args)) {
        ngx_cpystrn((u_char *) err, (u_char *)
                    "Invalid params: \"arguments\" must be an object",
                    NGX_HTTP_MCP_ERRLEN);
        return NULL;
    }

    tool = ngx_http_mcp_tool_named(tools, name);

    if (tool != NULL) {
        return tool;
    }

    len = json_string_length(name);

    *ngx_snprintf((u_char *) err, NGX_HTTP_MCP_ERRLEN - 1,
                  "Invalid params: unknown tool \"%*s\"",
                  ngx_min(len, 64), json_string_value(name)) = '\0';

    return NULL;
}


static ngx_int_t
ngx_http_mcp_json_type_is(json_t *value, const char *type)
{
    double  d;

    if (ngx_strcmp(type, "string") == 0) {
        return json_is_string(value);
    }

    if (ngx_strcmp(type, "integer") == 0) {
        if (json_is_integer(value)) {
            return 1;
        }

        if (!json_is_real(value)) {
            return 0;
        }

        /*
         * 1.0 is an integer too; past 2^63 every double is whole, and the
         * cast is only defined within range
         */

        d = json_real_value(value);

        return d <= -9.2e18 || d >= 9.2e18 || d == (double) (json_int_t) d;
    }

    if (ngx_strcmp(type, "number") == 0) {
        return json_is_number(value);
    }

    if (ngx_strcmp(type, "boolean") == 0) {
        return json_is_boolean(value);
    }

    if (ngx_strcmp(type, "object") == 0) {
        return json_is_object(value);
    }

    if (ngx_strcmp(type, "array") == 0) {
        return json_is_array(value);
    }

    if (ngx_strcmp(type, "null") == 0) {
        return json_is_null(value);
    }

    /* a type we do not know is the backend's to check */
    return 1;
}


ngx_int_t
ngx_http_mcp_schema_check(json_t *schema, json_t *value, const char *what,
    char *err)
{
    size_t       i, klen;
    json_t      *required, *props, *prop, *type, *t, *extra, *v;
    ngx_uint_t   ok;
    const char  *key;

    /*
     * The gateway checks the top level of a schema: the value is an
     * object, required properties are present, declared property types
     * hold and, with "additionalProperties": false, nothing else is
     * there.  Deeper validation stays with the tool backend.
     */

    if (!json_is_object(value)) {
        *ngx_snprintf((u_char *) err, NGX_HTTP_MCP_ERRLEN - 1,
                      "%s must be an object", what) = '\0';
        return NGX_DECLINED;
    }

    required = json_object_get(schema, "required");

    json_array_foreach(required, i, v) {
        if (json_is_string(v)
            && json_object_get(value, json_string_value(v)) == NULL)
        {
            *ngx_snprintf((u_char *) err, NGX_HTTP_MCP_ERRLEN - 1,
                          "%s: missing required property \"%*s\"", what,
                          ngx_min(json_string_length(v), 64),
                          json_string_value(v)) = '\0';
            return NGX_DECLINED;
        }
    }

    props = json_object_get(schema, "properties");
    extra = json_object_get(schema, "additionalProperties");

    json_object_keylen_foreach(value, key, klen, v) {

        /* a key with "\u0000" in it matches no declared property */

        prop = (ngx_strlen(key) == klen) ? json_object_get(props, key)
                                         : NULL;

        if (prop == NULL) {
            if (json_is_false(extra)) {
                *ngx_snprintf((u_char *) err, NGX_HTTP_MCP_ERRLEN - 1,
                              "%s: unexpected property \"%*s\"", what,
                              ngx_min(ngx_strlen(key), 64), key) = '\0';
                return NGX_DECLINED;
            }

            continue;
        }

        type = json_object_get(prop, "type");

        if (json_is_string(type)) {
            ok = ngx_http_mcp_json_type_is(v, json_string_value(type));

        } else if (json_is_array(type)) {
            ok = 0;

            json_array_foreach(type, i, t) {
                if (json_is_string(t)
                    && ngx_http_mcp_json_type_is(v, json_string_value(t)))
                {
                    ok = 1;
                    break;
                }
            }

        } else {
            ok = 1;
        }

        if (!ok) {
            *ngx_snprintf((u_char *) err, NGX_HTTP_MCP_ERRLEN - 1,
                          "%s: property \"%*s\" has the wrong type", what,
                          ngx_min(ngx_strlen(key), 64), key) = '\0';
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static size_t
ngx_http_mcp_utf8_len(u_char *p, u_char *last)
{
    u_char  c, lo, hi;
    size_t  n, i;

    /* the length of a well-formed sequence at p, 0 if none (RFC 3629) */

    c = *p;
    lo = 0x80;
    hi = 0xbf;

    if (c < 0x80) {
        return 1;

    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = (c == 0xe0) ? 0xa0 : 0x80;
        hi = (c == 0xed) ? 0x9f : 0xbf;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = (c == 0xf0) ? 0x90 : 0x80;
        hi = (c == 0xf4) ? 0x8f : 0xbf;

    } else {
        return 0;
    }

    if ((size_t) (last - p) < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return n;
}


json_t *
ngx_http_mcp_json_text(ngx_pool_t *pool, u_char *text, size_t len)
{
    u_char  *p, *last, *dst, *d;
    json_t  *s;
    size_t   n;

    s = json_stringn((char *) text, len);
    if (s != NULL) {
        return s;
    }

    /* bytes that are not UTF-8 become U+FFFD so the answer stays JSON */

    dst = ngx_pnalloc(pool, len * 3);
    if (dst == NULL) {
        return NULL;
    }

    d = dst;
    p = text;
    last = text + len;

    while (p < last) {
        n = ngx_http_mcp_utf8_len(p, last);

        if (n == 0) {
            d = ngx_cpymem(d, "\xef\xbf\xbd", 3);
            p++;
            continue;
        }

        d = ngx_cpymem(d, p, n);
        p += n;
    }

    return json_stringn((char *) dst, d - dst);
}


static json_t *
ngx_http_mcp_text_block(ngx_pool_t *pool, u_char *text, size_t len)
{
    json_t  *s;

    s = ngx_http_mcp_json_text(pool, text, len);
    if (s == NULL) {
        return NULL;
    }

    return json_pack("{s:s, s:o}", "type", "text", "text", s);
}


json_t *
ngx_http_mcp_tool_error(ngx_pool_t *pool, u_char *text, size_t len)
{
    json_t  *block;

    block = ngx_http_mcp_text_block(pool, text, len);
    if (block == NULL) {
        return NULL;
    }

    return json_pack("{s:[o], s:b}", "content", block, "isError", 1);
}


static const char *
ngx_http_mcp_content_check(json_t *block)
{
    json_t      *res;
    const char  *type;

    if (!json_is_object(block)) {
        return "a content block is not an object";
    }

    type = json_string_value(json_object_get(block, "type"));

    if (type == NULL) {
        return "a content block has no \"type\"";
    }

    if (ngx_strcmp(type, "text") == 0) {
        return json_is_string(json_object_get(block, "text"))
               ? NULL : "a text block needs a string \"text\"";
    }

    if (ngx_strcmp(type, "image") == 0 || ngx_strcmp(type, "audio") == 0) {
        return json_is_string(json_object_get(block, "data"))
               && json_is_string(json_object_get(block, "mimeType"))
               ? NULL : "an image or audio block needs \"data\" and "
                        "\"mimeType\" strings";
    }

    if (ngx_strcmp(type, "resource") == 0) {
        res = json_object_get(block, "resource");

        return json_is_object(res)
               && json_is_string(json_object_get(res, "uri"))
               && (json_is_string(json_object_get(res, "text"))
                   || json_is_string(json_object_get(res, "blob")))
               ? NULL : "a resource block needs a \"resource\" with \"uri\" "
                        "and \"text\" or \"blob\"";
    }

    if (ngx_strcmp(type, "resource_link") == 0) {
        return json_is_string(json_object_get(block, "uri"))
               && json_is_string(json_object_get(block, "name"))
               ? NULL : "a resource_link block needs \"uri\" and \"name\"";
    }

    return "a content block has an unknown \"type\"";
}


static const char *
ngx_http_mcp_result_check(json_t *result)
{
    size_t       i;
    json_t      *content, *v, *block;
    const char  *why;

    if (!json_is_object(result)) {
        return "the result is not an object";
    }

    content = json_object_get(result, "content");

    if (!json_is_array(content)) {
        return "\"content\" must be an array";
    }

    json_array_foreach(content, i, block) {
        why = ngx_http_mcp_content_check(block);
        if (why) {
            return why;
        }
    }

    v = json_object_get(result, "isError");

    if (v != NULL && !json_is_boolean(v)) {
        return "\"isError\" must be a boolean";
    }

    v = json_object_get(result, "structuredContent");

    if (v != NULL && !json_is_object(v)) {
        return "\"structuredContent\" must be an object";
    }

    v = json_object_get(result, "_meta");

    if (v != NULL && !json_is_object(v)) {
        return "\"_meta\" must be an object";
    }

    return NULL;
}


static ngx_int_t
ngx_http_mcp_media_type_is(ngx_str_t *type, const char *name)
{
    size_t   len;
    u_char  *p, *last;

    len = ngx_strlen(name);

    if (type->len < len || ngx_strncasecmp(type->data, (u_char *) name, len))
    {
        return 0;
    }

    /* only parameters may follow the media type */

    p = type->data + len;
    last = type->data + type->len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    return p == last || *p == ';';
}


json_t *
ngx_http_mcp_tool_result(ngx_pool_t *pool, ngx_http_mcp_tool_t *tool,
    ngx_http_mcp_reply_t *reply, ngx_uint_t max_depth, ngx_uint_t version)
{
    u_char       *p;
    json_t       *result, *json, *structured, *block;
    const char   *why;
    ngx_uint_t    is_json;
    u_char        err[NGX_HTTP_MCP_ERRLEN], msg[NGX_HTTP_MCP_ERRLEN * 2];

    if (reply->body == NULL) {
        /* no body at all (204, "return 200;") reads as an empty one */
        reply->body = (u_char *) "";
        reply->len = 0;
    }

    if (reply->too_large) {
        p = ngx_snprintf(msg, sizeof(msg),
                         "tool \"%V\" returned more than the %uz bytes "
                         "allowed by mcp_tool_max_response",
                         &tool->name, reply->limit);
        return ngx_http_mcp_tool_error(pool, msg, p - msg);
    }

    if (reply->max_values
        && ngx_http_mcp_json_values(reply->body, reply->len,
                                    reply->max_values)
           != NGX_OK
        && (ngx_http_mcp_media_type_is(&reply->content_type,
                                       NGX_HTTP_MCP_RESULT_TYPE)
            || ngx_http_mcp_media_type_is(&reply->content_type,
                                          "application/json")))
    {
        p = ngx_snprintf(msg, sizeof(msg),
                         "tool \"%V\" returned JSON of more than %ui "
                         "values, the mcp_max_json_values limit",
                         &tool->name, reply->max_values);
        return ngx_http_mcp_tool_error(pool, msg, p - msg);
    }

    /* a failed call reports the backend's own words */

    if (reply->status < 200 || reply->status > 299) {
        if (reply->len == 0) {
            p = ngx_snprintf(msg, sizeof(msg),
                             "tool \"%V\" failed with HTTP status %ui",
                             &tool->name, reply->status);
            return ngx_http_mcp_tool_error(pool, msg, p - msg);
        }

        return ngx_http_mcp_tool_error(pool, reply->body, reply->len);
    }

    if (ngx_http_mcp_media_type_is(&reply->content_type,
                                   NGX_HTTP_MCP_RESULT_TYPE))
    {
        result = ngx_http_mcp_json_parse(reply->body, reply->len, max_depth,
                                         (char *) err);
        if (result == NULL) {
            why = (const char *) err;

        } else {
            why = ngx_http_mcp_result_check(result);
        }

        if (why) {
            json_decref(result);
            p = ngx_snprintf(msg, sizeof(msg),
                             "tool \"%V\" returned an invalid "
                             "CallToolResult: %s", &tool->name, why);
            return ngx_http_mcp_tool_error(pool, msg, p - msg);
        }

        structured = json_object_get(result, "structuredContent");

    } else {
        is_json = ngx_http_mcp_media_type_is(&reply->content_type,
                                             "application/json");
        structured = NULL;

        if (is_json) {
            json = ngx_http_mcp_json_parse(reply->body, reply->len,
                                           max_depth, (char *) err);
            if (json == NULL) {
                p = ngx_snprintf(msg, sizeof(msg),
                                 "tool \"%V\" returned invalid JSON: %s",
                                 &tool->name, err);
                return ngx_http_mcp_tool_error(pool, msg, p - msg);
            }

            if (json_is_object(json)) {
                structured = json;

            } else {
                json_decref(json);
            }
        }

        block = ngx_http_mcp_text_block(pool, reply->body, reply->len);
        if (block == NULL) {
            json_decref(structured);
            return NULL;
        }

        result = json_pack("{s:[o]}", "content", block);
        if (result == NULL) {
            json_decref(structured);
            return NULL;
        }

        if (structured) {
            json_object_set_new(result, "structuredContent", structured);
        }
    }

    /* a tool that declares an output schema promises structured content */

    if (tool->output_schema && !json_is_true(json_object_get(result,
                                                              "isError")))
    {
        if (structured == NULL) {
            json_decref(result);
            p = ngx_snprintf(msg, sizeof(msg),
                             "tool \"%V\" declares an output schema but "
                             "returned no structured content", &tool->name);
            return ngx_http_mcp_tool_error(pool, msg, p - msg);
        }

        if (ngx_http_mcp_schema_check(tool->output_schema, structured,
                                      "structured content", (char *) err)
            != NGX_OK)
        {
            json_decref(result);
            p = ngx_snprintf(msg, sizeof(msg),
                             "tool \"%V\" returned a result that does not "
                             "match its output schema: %s",
                             &tool->name, err);
            return ngx_http_mcp_tool_error(pool, msg, p - msg);
        }
    }

    /* structured content came with revision 2025-06-18 */

    if (version < NGX_HTTP_MCP_V_2025_06_18) {
        json_object_del(result, "structuredContent");
    }

    return result;
}


static ngx_int_t
ngx_http_mcp_trace_hex(u_char *p, size_t n)
{
    ngx_int_t  nonzero;

    /* lowercase hex only, as W3C Trace Context has it; 1: not all zero */

    nonzero = 0;

    while (n--) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
            return NGX_ERROR;
        }

        nonzero |= (*p++ != '0');
    }

    return nonzero;
}


ngx_int_t
ngx_http_mcp_traceparent(u_char *in, size_t len, u_char *trace, u_char *span,
    u_char *out)
{
    u_char  *p;

    /*
     * The traceparent of a call forwarded to a tool backend (W3C Trace
     * Context, level 1): the client's trace continued when its header is
     * one we understand, with our span (16 hex) as the parent; otherwise
     * a new trace (32 hex, the request id) sampled.  Versions above 00
     * are read as 00 is (their first 55 bytes, then "-" or the end).
     */

    p = ngx_cpymem(out, "00-", 3);

    if (in != NULL
        && len >= NGX_HTTP_MCP_TRACEPARENT_LEN
        && (len == NGX_HTTP_MCP_TRACEPARENT_LEN
            || (in[NGX_HTTP_MCP_TRACEPARENT_LEN] == '-'
                && ngx_strncmp(in, "00", 2) != 0))
        && in[2] == '-' && in[35] == '-' && in[52] == '-'
        && ngx_http_mcp_trace_hex(in, 2) != NGX_ERROR
        && ngx_strncmp(in, "ff", 2) != 0
        && ngx_http_mcp_trace_hex(in + 3, 32) == 1
        && ngx_http_mcp_trace_hex(in + 36, 16) == 1
        && ngx_http_mcp_trace_hex(in + 53, 2) != NGX_ERROR)
    {
        p = ngx_cpymem(p, in + 3, 32);
        *p++ = '-';
        p = ngx_cpymem(p, span, 16);
        *p++ = '-';

        /* of the flags, version 00 knows "sampled" only */
        *p++ = '0';
        *p = (in[54] == '1' || in[54] == '3' || in[54] == '5'
              || in[54] == '7' || in[54] == '9' || in[54] == 'b'
              || in[54] == 'd' || in[54] == 'f') ? '1' : '0';

        return NGX_OK;
    }

    p = ngx_cpymem(p, trace, 32);
    *p++ = '-';
    p = ngx_cpymem(p, span, 16);
    ngx_memcpy(p, "-01", 3);

    return NGX_DECLINED;
}


ngx_http_mcp_tool_t *
ngx_http_mcp_tool_named(ngx_array_t *tools, json_t *name)
{
    size_t                len;
    ngx_uint_t            i;
    ngx_http_mcp_tool_t  *tool;

    /* the tool of that configured name, if name is a string */

    if (tools == NULL || !json_is_string(name)) {
        return NULL;
    }

    len = json_string_length(name);
    tool = tools->elts;

    for (i = 0; i < tools->nelts; i++) {
        if (tool[i].name.len == len
            && ngx_strncmp(tool[i].name.data, json_string_value(name), len)
               == 0)
        {
            return &tool[i];
        }
    }

    return NULL;
}
