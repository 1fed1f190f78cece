
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_mcp_token.h"


/*
 * A line of an mcp_auth bearer token file: "NAME SHA256-HEX [SCOPE ...]",
 * words of visible ASCII separated by spaces or tabs; blank lines and
 * lines starting with "#" say nothing.  The name and the scopes point
 * into the line.  NGX_OK: a client; NGX_DECLINED: nothing; NGX_ERROR: a
 * malformed line; NGX_ABORT: no memory.
 */


ngx_int_t
ngx_http_mcp_token_line(u_char *p, u_char *last, ngx_str_t *name,
    u_char *digest, ngx_array_t *scopes)
{
    u_char      *start, *q;
    ngx_int_t    hi, lo;
    ngx_str_t   *scope, hex;
    ngx_uint_t   n, i;

    if (last > p && last[-1] == '\r') {
        last--;
    }

    n = 0;
    ngx_str_null(&hex);

    for ( ;; ) {

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == last || (n == 0 && *p == '#')) {
            break;
        }

        start = p;

        while (p < last && *p != ' ' && *p != '\t') {
            if (*p < 0x21 || *p > 0x7e) {
                return NGX_ERROR;
            }

            p++;
        }

        switch (n++) {

        case 0:
            name->data = start;
            name->len = p - start;
            break;

        case 1:
            hex.data = start;
            hex.len = p - start;
            break;

        default:
            scope = ngx_array_push(scopes);
            if (scope == NULL) {
                return NGX_ABORT;
            }

            scope->data = start;
            scope->len = p - start;
        }
    }

    if (n == 0) {
        return NGX_DECLINED;
    }

    /* ":" is the JWT principals' (see ngx_http_mcp_oauth_verify) */

    if (n == 1
        || name->len > NGX_HTTP_MCP_TOKEN_NAME_MAX
        || ngx_strlchr(name->data, name->data + name->len, ':') != NULL
        || hex.len != 2 * NGX_HTTP_MCP_TOKEN_DIGEST_LEN)
    {
        return NGX_ERROR;
    }

    for (i = 0, q = hex.data; i < NGX_HTTP_MCP_TOKEN_DIGEST_LEN; i++) {
        hi = ngx_hextoi(q++, 1);
        lo = ngx_hextoi(q++, 1);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return NGX_ERROR;
        }

        digest[i] = (u_char) (hi << 4 | lo);
    }

    return NGX_OK;
}
