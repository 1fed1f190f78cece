
/*
 * Copyright (C) ngx_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_JWT_H_INCLUDED_
#define _NGX_HTTP_MCP_JWT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>


/*
 * JWT access tokens (RFC 7519, RFC 9068) signed with a key of a JWKS
 * (RFC 7517) or a shared secret.  Free of request state: the gateway
 * calls it from the access phase, the unit tests and fuzzers directly.
 */


#define NGX_HTTP_MCP_JWT_RS256       1
#define NGX_HTTP_MCP_JWT_ES256       2
#define NGX_HTTP_MCP_JWT_EDDSA       3
#define NGX_HTTP_MCP_JWT_HS256       4

/* larger tokens are malformed: nginx's header buffers are 8k */
#define NGX_HTTP_MCP_JWT_MAX         8192

/* the principal's name; the zone keeps it with its issuer's number */
#define NGX_HTTP_MCP_JWT_CLIENT_MAX  128

#define NGX_HTTP_MCP_JWT_ISSUERS     16

/* keys a token without "kid" is tried against */
#define NGX_HTTP_MCP_JWT_TRIES       4

#define NGX_HTTP_MCP_JWT_RSA_MAX     8192

#define NGX_HTTP_MCP_JWT_SCOPE_MAX   1024

#define NGX_HTTP_MCP_JWT_SECRET_MIN  32


typedef struct {
    ngx_str_t                 kid;          /* empty: none */
    ngx_uint_t                alg;
    EVP_PKEY                 *pkey;         /* NULL for a shared secret */
    ngx_str_t                 secret;
} ngx_http_mcp_jwk_t;


typedef struct {
    ngx_array_t               keys;         /* ngx_http_mcp_jwk_t */
    ngx_array_t               issuers;      /* ngx_str_t */
    ngx_str_t                 audience;
    ngx_str_t                 client_claim;
    time_t                    leeway;
} ngx_http_mcp_jwt_policy_t;


typedef struct {
    ngx_str_t                 client;
    ngx_str_t                 scope;        /* space-separated */
    ngx_uint_t                issuer;       /* its number in the policy */
    time_t                    expires;      /* exp and the leeway */
    const char               *error;        /* why the token was refused */
} ngx_http_mcp_jwt_t;


char *ngx_http_mcp_jwks_parse(ngx_pool_t *pool, ngx_log_t *log,
    u_char *text, size_t len, ngx_array_t *keys);
char *ngx_http_mcp_jwt_secret(u_char *data, size_t len, ngx_array_t *keys);
ngx_int_t ngx_http_mcp_jwt_verify(ngx_pool_t *pool,
    ngx_http_mcp_jwt_policy_t *policy, ngx_str_t *token, time_t now,
    ngx_http_mcp_jwt_t *jwt);
ngx_uint_t ngx_http_mcp_jwt_shaped(ngx_str_t *token);


#endif /* _NGX_HTTP_MCP_JWT_H_INCLUDED_ */
