
/*
 * Copyright (C) ngx_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_TOKEN_H_INCLUDED_
#define _NGX_HTTP_MCP_TOKEN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_MCP_TOKEN_NAME_MAX    64
#define NGX_HTTP_MCP_TOKEN_DIGEST_LEN  32       /* SHA-256 */


ngx_int_t ngx_http_mcp_token_line(u_char *p, u_char *last, ngx_str_t *name,
    u_char *digest, ngx_array_t *scopes);


#endif /* _NGX_HTTP_MCP_TOKEN_H_INCLUDED_ */
