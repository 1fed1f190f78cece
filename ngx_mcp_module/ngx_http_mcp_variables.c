
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_mcp_module.h"


/*
 * Variables for logs and for the tool locations: the session, method,
 * tool, JSON-RPC id and protocol revision of the MCP request at hand.
 * In a tool subrequest they describe the call being forwarded.
 */


#define NGX_HTTP_MCP_VAR_SESSION_ID  0
#define NGX_HTTP_MCP_VAR_METHOD      1
#define NGX_HTTP_MCP_VAR_TOOL        2
#define NGX_HTTP_MCP_VAR_JSONRPC_ID  3
#define NGX_HTTP_MCP_VAR_VERSION     4
#define NGX_HTTP_MCP_VAR_CLIENT      5
#define NGX_HTTP_MCP_VAR_LIMIT       6
#define NGX_HTTP_MCP_VAR_TOOL_STATUS 7


static ngx_int_t ngx_http_mcp_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_mcp_vars[] = {

    { ngx_string("mcp_session_id"), NULL, ngx_http_mcp_variable,
      NGX_HTTP_MCP_VAR_SESSION_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_method"), NULL, ngx_http_mcp_variable,
      NGX_HTTP_MCP_VAR_METHOD, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_tool"), NULL, ngx_http_mcp_variable,
      NGX_HTTP_MCP_VAR_TOOL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_jsonrpc_id"), NULL, ngx_http_mcp_variable,
      NGX_HTTP_MCP_VAR_JSONRPC_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_protocol_version"), NULL, ngx_http_mcp_variable,
      NGX_HTTP_MCP_VAR_VERSION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_client"), NULL, ngx_http_mcp_variable,
      NGX_HTTP_MCP_VAR_CLIENT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_limit_req_status"), NULL, ngx_http_mcp_variable,
      NGX_HTTP_MCP_VAR_LIMIT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mcp_tool_status"), NULL, ngx_http_mcp_variable,
      NGX_HTTP_MCP_VAR_TOOL_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_mcp_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_mcp_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    size_t                n;
    json_t               *id;
    ngx_str_t             value, *name;
    ngx_http_mcp_ctx_t   *ctx;
    ngx_http_mcp_call_t  *call;

    call = NULL;

    if (r == r->main) {
        ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    } else {
        /* a tool subrequest: its own call, within the client's request */

        ctx = ngx_http_get_module_ctx(r->main, ngx_http_mcp_module);
        call = ctx ? ctx->call : NULL;

        if (call == NULL || call->sr != r) {
            ctx = NULL;
        }
    }

    ngx_str_null(&value);

    if (ctx != NULL) {
        switch (data) {

        case NGX_HTTP_MCP_VAR_SESSION_ID:
            value = ctx->session_id;
            break;

        case NGX_HTTP_MCP_VAR_CLIENT:
            value = ctx->client;
            break;

        case NGX_HTTP_MCP_VAR_TOOL_STATUS:
            if (ctx->tool_status) {
                value = *ngx_http_mcp_metrics_outcome(ctx->tool_status - 1);
            }

            break;

        case NGX_HTTP_MCP_VAR_LIMIT:
            name = ngx_http_mcp_limit_status_name(ctx->limit_status);

            if (name != NULL) {
                value = *name;
            }

            break;

        case NGX_HTTP_MCP_VAR_METHOD:
            value = ctx->method;

            if (call) {
                ngx_str_set(&value, "tools/call");
            }

            break;

        case NGX_HTTP_MCP_VAR_TOOL:
            value = call ? call->tool->name : ctx->tool;
            break;

        case NGX_HTTP_MCP_VAR_JSONRPC_ID:
            id = call ? call->id : ctx->id;

            if (id == NULL) {
                break;
            }

            n = json_dumpb(id, NULL, 0, JSON_ENCODE_ANY | JSON_COMPACT);

            value.data = ngx_pnalloc(r->pool, n ? n : 1);
            if (value.data == NULL) {
                return NGX_ERROR;
            }

            value.len = json_dumpb(id, (char *) value.data, n,
                                   JSON_ENCODE_ANY | JSON_COMPACT);
            break;

        default: /* NGX_HTTP_MCP_VAR_VERSION */
            if (ctx->version) {
                value = *ngx_http_mcp_version_name(ctx->version);
            }

            break;
        }
    }

    if (value.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = value.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = value.data;

    return NGX_OK;
}
