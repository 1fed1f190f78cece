
/*
 * Copyright (C) ngx_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_JSONRPC_H_INCLUDED_
#define _NGX_HTTP_MCP_JSONRPC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>


#define NGX_HTTP_MCP_PARSE_ERROR        -32700
#define NGX_HTTP_MCP_INVALID_REQUEST    -32600
#define NGX_HTTP_MCP_METHOD_NOT_FOUND   -32601
#define NGX_HTTP_MCP_INVALID_PARAMS     -32602
#define NGX_HTTP_MCP_INTERNAL_ERROR     -32603
#define NGX_HTTP_MCP_TRANSPORT_ERROR    -32000
#define NGX_HTTP_MCP_SESSION_NOT_FOUND  -32001
#define NGX_HTTP_MCP_FORBIDDEN          -32003

#define NGX_HTTP_MCP_ERRLEN             160
#define NGX_HTTP_MCP_ID_MAX             256
#define NGX_HTTP_MCP_METHOD_MAX         256


typedef enum {
    NGX_HTTP_MCP_MSG_REQUEST = 0,
    NGX_HTTP_MCP_MSG_NOTIFICATION,
    NGX_HTTP_MCP_MSG_RESPONSE,
    NGX_HTTP_MCP_MSG_INVALID
} ngx_http_mcp_msg_kind_e;


typedef struct {
    ngx_http_mcp_msg_kind_e   kind;
    json_t                   *json;      /* the message, borrowed */
    json_t                   *id;        /* borrowed; NULL if absent/bad */
    json_t                   *params;    /* borrowed; NULL if absent */
    ngx_str_t                 method;    /* inside json; empty if none */
    const char               *error;     /* why kind is INVALID */
} ngx_http_mcp_msg_t;


json_t *ngx_http_mcp_json_parse(u_char *data, size_t len,
    ngx_uint_t max_depth, char *err);
ngx_int_t ngx_http_mcp_json_depth(u_char *data, size_t len,
    ngx_uint_t max_depth);
ngx_int_t ngx_http_mcp_json_values(u_char *data, size_t len,
    ngx_uint_t max_values);
void ngx_http_mcp_msg_classify(json_t *json, ngx_http_mcp_msg_t *msg);
json_t *ngx_http_mcp_response(json_t *id, json_t *result);
json_t *ngx_http_mcp_error(json_t *id, ngx_int_t code, const char *message);
ngx_int_t ngx_http_mcp_method_is(ngx_http_mcp_msg_t *msg, const char *name);


#endif /* _NGX_HTTP_MCP_JSONRPC_H_INCLUDED_ */
