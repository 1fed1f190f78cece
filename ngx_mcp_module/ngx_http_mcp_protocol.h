
/*
 * Copyright (C) ngx_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_PROTOCOL_H_INCLUDED_
#define _NGX_HTTP_MCP_PROTOCOL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include "ngx_http_mcp_jsonrpc.h"


/* protocol revisions, in order; 0 means unknown */
#define NGX_HTTP_MCP_V_UNKNOWN     0
#define NGX_HTTP_MCP_V_2024_11_05  1
#define NGX_HTTP_MCP_V_2025_03_26  2
#define NGX_HTTP_MCP_V_2025_06_18  3
#define NGX_HTTP_MCP_V_2025_11_25  4
#define NGX_HTTP_MCP_V_LATEST      NGX_HTTP_MCP_V_2025_11_25

/* Streamable HTTP came with 2025-03-26; older clients use HTTP with SSE */
#define NGX_HTTP_MCP_V_OLDEST      NGX_HTTP_MCP_V_2024_11_05
#define NGX_HTTP_MCP_V_STREAMABLE  NGX_HTTP_MCP_V_2025_03_26

#define NGX_HTTP_MCP_RESULT_TYPE   "application/vnd.mcp.tool-result+json"


typedef struct {
    ngx_str_t                 name;
    ngx_str_t                 uri;
    ngx_str_t                 args;
    ngx_str_t                 description;
    ngx_str_t                 title;
    json_t                   *input_schema;
    json_t                   *output_schema;
    ngx_msec_t                timeout;
    ngx_array_t              *scopes;       /* ngx_str_t, all required */
    ngx_uint_t                metric;       /* its row in the metrics */
} ngx_http_mcp_tool_t;


/* what a tool backend answered */
typedef struct {
    ngx_uint_t                status;
    ngx_str_t                 content_type;
    u_char                   *body;
    size_t                    len;
    size_t                    limit;
    ngx_uint_t                max_values;   /* 0: no limit */
    unsigned                  too_large:1;
} ngx_http_mcp_reply_t;


ngx_uint_t ngx_http_mcp_version_parse(u_char *data, size_t len);
ngx_str_t *ngx_http_mcp_version_name(ngx_uint_t version);
ngx_uint_t ngx_http_mcp_version_negotiate(json_t *params, ngx_uint_t oldest);
u_char *ngx_http_mcp_versions_text(u_char *buf, u_char *last,
    ngx_uint_t oldest);

json_t *ngx_http_mcp_initialize_result(ngx_uint_t version, ngx_str_t *name,
    ngx_str_t *ver, ngx_str_t *instructions);
json_t *ngx_http_mcp_tools_list(ngx_pool_t *pool, ngx_array_t *tools,
    json_t *params, ngx_uint_t page, ngx_uint_t version, char *err);
ngx_http_mcp_tool_t *ngx_http_mcp_tool_find(ngx_array_t *tools,
    json_t *params, json_t **args, char *err);
ngx_http_mcp_tool_t *ngx_http_mcp_tool_named(ngx_array_t *tools,
    json_t *name);

ngx_int_t ngx_http_mcp_schema_check(json_t *schema, json_t *value,
    const char *what, char *err);
json_t *ngx_http_mcp_tool_result(ngx_pool_t *pool, ngx_http_mcp_tool_t *tool,
    ngx_http_mcp_reply_t *reply, ngx_uint_t max_depth, ngx_uint_t version);
json_t *ngx_http_mcp_tool_error(ngx_pool_t *pool, u_char *text, size_t len);
json_t *ngx_http_mcp_json_text(ngx_pool_t *pool, u_char *text, size_t len);

/* "00-" 32 hex "-" 16 hex "-" 2 hex: a W3C traceparent */
#define NGX_HTTP_MCP_TRACEPARENT_LEN  55

ngx_int_t ngx_http_mcp_traceparent(u_char *in, size_t len, u_char *trace,
    u_char *span, u_char *out);


#endif /* _NGX_HTTP_MCP_PROTOCOL_H_INCLUDED_ */
