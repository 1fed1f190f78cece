
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include "ngx_http_mcp_module.h"
#include "ngx_http_mcp_jwt.h"
#include "ngx_http_mcp_token.h"


/*
 * Bearer tokens, checked in the access phase.  The token file holds one
 * client per line: its name, the SHA-256 of its token in hex (never the
 * token), and its scopes.  It is read with the configuration, so a
 * reload picks up changes.  A request's token is hashed and compared
 * with every client's digest in constant time.
 */


#define NGX_HTTP_MCP_AUTH_TOKEN_MAX  4096
#define NGX_HTTP_MCP_AUTH_FILE_MAX   (16 * 1024 * 1024)


typedef struct {
    ngx_str_t                 name;
    u_char                    digest[SHA256_DIGEST_LENGTH];
    ngx_array_t               scopes;       /* ngx_str_t */
} ngx_http_mcp_client_t;


struct ngx_http_mcp_auth_s {
    ngx_uint_t                enabled;
    ngx_uint_t                jwt;          /* JWTs per mcp_oauth too */
    ngx_str_t                 realm;
    ngx_str_t                 file;
    ngx_array_t               clients;      /* ngx_http_mcp_client_t */
    ngx_array_t              *scopes;       /* every request needs */
    ngx_str_t                 scope;        /* the same, space-separated */
};


static ngx_int_t ngx_http_mcp_auth_name(ngx_str_t *name);
static char *ngx_http_mcp_auth_read(ngx_conf_t *cf,
    ngx_http_mcp_auth_t *auth);
static char *ngx_http_mcp_auth_line(ngx_conf_t *cf,
    ngx_http_mcp_auth_t *auth, u_char *p, u_char *last, ngx_uint_t line);
static ngx_array_t *ngx_http_mcp_auth_split(ngx_pool_t *pool,
    ngx_str_t *scope);
static ngx_int_t ngx_http_mcp_auth_reject(ngx_http_request_t *r,
    const char *error, const char *description, const char *why);
static ngx_int_t ngx_http_mcp_origin_allowed(ngx_http_request_t *r,
    ngx_http_mcp_loc_conf_t *mlcf);


char *
ngx_http_mcp_auth_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    u_char               *p;
    ngx_str_t            *value, s, *scope;
    ngx_uint_t            i, j;
    ngx_http_mcp_auth_t  *auth;

    if (mlcf->auth != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    auth = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_auth_t));
    if (auth == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no parameters after \"off\"";
        }

        mlcf->auth = auth;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "jwt") == 0) {
        auth->jwt = 1;

    } else if (ngx_strcmp(value[1].data, "bearer") != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", it must be \"bearer\", "
                           "\"jwt\" or \"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    auth->enabled = 1;
    ngx_str_set(&auth->realm, "mcp");

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "file=", 5) == 0) {
            auth->file.data = value[i].data + 5;
            auth->file.len = value[i].len - 5;
            continue;
        }

        if (ngx_strncmp(value[i].data, "realm=", 6) == 0) {
            auth->realm.data = value[i].data + 6;
            auth->realm.len = value[i].len - 6;

            if (ngx_http_mcp_auth_name(&auth->realm) != NGX_OK) {
                return "takes a realm of visible characters, without "
                       "quotes or backslashes";
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "scopes=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            if (ngx_http_mcp_oauth_scopes(cf, &s, &auth->scopes)
                != NGX_CONF_OK)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": scopes separated by "
                                   "commas are expected", &value[i]);
                return NGX_CONF_ERROR;
            }

            /* as a challenge names them: "a b" */

            auth->scope.len = s.len;
            auth->scope.data = ngx_pnalloc(cf->pool, s.len);
            if (auth->scope.data == NULL) {
                return NGX_CONF_ERROR;
            }

            p = auth->scope.data;
            scope = auth->scopes->elts;

            for (j = 0; j < auth->scopes->nelts; j++) {
                if (j) {
                    *p++ = ' ';
                }

                p = ngx_cpymem(p, scope[j].data, scope[j].len);
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&auth->clients, cf->pool, 16,
                       sizeof(ngx_http_mcp_client_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (auth->file.len == 0) {
        if (auth->jwt) {
            mlcf->auth = auth;
            return NGX_CONF_OK;
        }

        return "needs \"file=\" for \"bearer\"";
    }

    if (ngx_conf_full_name(cf->cycle, &auth->file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mcp_auth_read(cf, auth) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    mlcf->auth = auth;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mcp_auth_name(ngx_str_t *name)
{
    u_char  *p, *last;

    /* it goes into a quoted header parameter as it is */

    if (name->len == 0) {
        return NGX_ERROR;
    }

    last = name->data + name->len;

    for (p = name->data; p < last; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\') {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_mcp_auth_jwt(ngx_http_mcp_auth_t *auth)
{
    return auth->jwt;
}


ngx_int_t
ngx_http_mcp_conf_file(ngx_conf_t *cf, ngx_str_t *name, size_t max,
    ngx_str_t *text)
{
    u_char           *buf;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_int_t         rc;
    ngx_file_t        file;
    ngx_file_info_t   fi;

    /* the whole file, in the configuration's pool (it outlives it) */

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = *name;
    file.log = cf->log;

    rc = NGX_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", name);
        goto done;
    }

    if ((size_t) ngx_file_size(&fi) > max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is larger than %uz bytes", name, max);
        goto done;
    }

    buf = ngx_pnalloc(cf->pool, ngx_file_size(&fi) + 1);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_file(&file, buf, ngx_file_size(&fi), 0);
    if (n == NGX_ERROR) {
        goto done;
    }

    buf[n] = '\0';

    text->data = buf;
    text->len = n;

    rc = NGX_OK;

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", name);
    }

    return rc;
}


static char *
ngx_http_mcp_auth_read(ngx_conf_t *cf, ngx_http_mcp_auth_t *auth)
{
    u_char      *p, *last, *eol;
    ngx_str_t    text;
    ngx_uint_t   line;

    /* the names and scopes point into it for the cycle's life */

    if (ngx_http_mcp_conf_file(cf, &auth->file, NGX_HTTP_MCP_AUTH_FILE_MAX,
                               &text)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    p = text.data;
    last = text.data + text.len;

    for (line = 1; p < last; line++) {
        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        if (ngx_http_mcp_auth_line(cf, auth, p, eol, line) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

        p = eol + 1;
    }

    if (auth->clients.nelts == 0 && !auth->jwt) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "the token file \"%V\" names no client: "
                           "every request will be refused", &auth->file);
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_auth_line(ngx_conf_t *cf, ngx_http_mcp_auth_t *auth, u_char *p,
    u_char *last, ngx_uint_t line)
{
    ngx_int_t               rc;
    ngx_uint_t              i;
    ngx_http_mcp_client_t  *client, *other;

    client = ngx_array_push(&auth->clients);
    if (client == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&client->scopes, cf->pool, 2, sizeof(ngx_str_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    rc = ngx_http_mcp_token_line(p, last, &client->name, client->digest,
                                 &client->scopes);

    if (rc != NGX_OK) {
        auth->clients.nelts--;
    }

    if (rc == NGX_DECLINED) {
        return NGX_CONF_OK;
    }

    if (rc == NGX_ABORT) {
        return NGX_CONF_ERROR;
    }

    if (rc == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid line in the token file \"%V\", line %ui: "
                           "expected \"NAME SHA256-HEX [SCOPE ...]\"",
                           &auth->file, line);
        return NGX_CONF_ERROR;
    }

    /* names and tokens are each one client's */

    other = auth->clients.elts;

    for (i = 0; i < auth->clients.nelts - 1; i++) {
        if (other[i].name.len == client->name.len
            && ngx_strncmp(other[i].name.data, client->name.data,
                           client->name.len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate client \"%V\" in \"%V\", line %ui",
                               &client->name, &auth->file, line);
            return NGX_CONF_ERROR;
        }

        if (ngx_memcmp(other[i].digest, client->digest,
                       SHA256_DIGEST_LENGTH) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the token of \"%V\" is also \"%V\"'s, "
                               "in \"%V\", line %ui", &client->name,
                               &other[i].name, &auth->file, line);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_mcp_auth_handler(ngx_http_request_t *r)
{
    u_char                   *p, *last;
    ngx_int_t                 rc;
    ngx_str_t                 token, client, principal, scope, *need;
    const char               *error;
    ngx_uint_t                i, found, oauth;
    ngx_array_t              *scopes;
    ngx_table_elt_t          *h;
    ngx_http_mcp_ctx_t       *ctx;
    ngx_http_mcp_auth_t      *auth;
    ngx_http_mcp_client_t    *c, *match;
    ngx_http_mcp_loc_conf_t  *mlcf;
    u_char                    digest[SHA256_DIGEST_LENGTH];

    if (r != r->main) {
        /* tool calls are the client's request's, already checked */
        return NGX_DECLINED;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    if (mlcf->enable && ngx_http_mcp_origin_allowed(r, mlcf) != NGX_OK) {
        ngx_http_mcp_metrics_auth(NGX_HTTP_MCP_AUTH_ORIGIN);
        return NGX_HTTP_FORBIDDEN;
    }

    auth = mlcf->auth;

    /* the metadata tells how to get a token: it cannot need one */

    if (auth == NULL || !auth->enabled || mlcf->oauth_metadata) {
        return NGX_DECLINED;
    }

    /* the Authorization header only: never a query string (RFC 6750) */

    h = r->headers_in.authorization;

    if (h == NULL) {
        return ngx_http_mcp_auth_reject(r, NULL, NULL, "no bearer token");
    }

    /* "Bearer" SP token (RFC 6750, 2.1) */

    p = h->value.data;
    last = p + h->value.len;

    if (h->value.len < 6
        || ngx_strncasecmp(p, (u_char *) "Bearer", 6) != 0
        || (h->value.len > 6 && p[6] != ' '))
    {
        /* another scheme is as good as none (RFC 6750, 3) */
        return ngx_http_mcp_auth_reject(r, NULL, NULL, "not a bearer token");
    }

    /* nginx has trimmed trailing spaces: "Bearer" alone has no token */

    p += 6;

    while (p < last && *p == ' ') {
        p++;
    }

    token.data = p;
    token.len = last - p;

    if (token.len == 0
        || token.len > (auth->jwt ? NGX_HTTP_MCP_JWT_MAX
                                  : NGX_HTTP_MCP_AUTH_TOKEN_MAX))
    {
        return ngx_http_mcp_auth_reject(r, "invalid_request", NULL,
                                        "a malformed bearer token");
    }

    if (auth->jwt && ngx_http_mcp_jwt_shaped(&token)) {
        rc = ngx_http_mcp_oauth_verify(r, mlcf->oauth, &token, &client,
                                       &principal, &scope, &error);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc != NGX_OK) {
            return ngx_http_mcp_auth_reject(r, "invalid_token", error,
                                            "a JWT refused");
        }

        scopes = ngx_http_mcp_auth_split(r->pool, &scope);
        if (scopes == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        oauth = 1;

    } else {

        SHA256(token.data, token.len, digest);

        /* every client is compared, in constant time, whatever matches */

        c = auth->clients.elts;
        match = NULL;

        for (i = 0; i < auth->clients.nelts; i++) {
            found = (CRYPTO_memcmp(c[i].digest, digest,
                                   SHA256_DIGEST_LENGTH) == 0);

            if (found) {
                match = &c[i];
            }
        }

        if (match == NULL) {
            return ngx_http_mcp_auth_reject(r, "invalid_token", NULL,
                                            "an unknown bearer token");
        }

        client = match->name;
        principal = match->name;
        scopes = &match->scopes;
        oauth = 0;
    }

    /* the scopes every request here needs */

    need = auth->scopes ? auth->scopes->elts : NULL;

    for (i = 0; auth->scopes && i < auth->scopes->nelts; i++) {

        if (ngx_http_mcp_str_listed(scopes, &need[i])) {
            continue;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp: client \"%V\" lacks scope \"%V\"",
                      &client, &need[i]);

        if (ngx_http_mcp_auth_challenge(r, "insufficient_scope",
                                        "the token lacks a scope",
                                        &auth->scope)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_FORBIDDEN;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    if (ctx == NULL) {
        ctx = ngx_http_mcp_ctx_create(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ctx->client = client;
    ctx->principal = principal;
    ctx->scopes = scopes;
    ctx->oauth = oauth;

    return NGX_DECLINED;
}


static ngx_array_t *
ngx_http_mcp_auth_split(ngx_pool_t *pool, ngx_str_t *scope)
{
    u_char       *p, *last, *start;
    ngx_str_t    *s;
    ngx_array_t  *scopes;

    /* "a b c" (RFC 6749, 3.3), spaces repeated or not */

    scopes = ngx_array_create(pool, 4, sizeof(ngx_str_t));
    if (scopes == NULL) {
        return NULL;
    }

    p = scope->data;
    last = p + scope->len;

    while (p < last) {

        if (*p == ' ') {
            p++;
            continue;
        }

        start = p;

        while (p < last && *p != ' ') {
            p++;
        }

        s = ngx_array_push(scopes);
        if (s == NULL) {
            return NULL;
        }

        s->data = start;
        s->len = p - start;
    }

    return scopes;
}


static ngx_int_t
ngx_http_mcp_auth_reject(ngx_http_request_t *r, const char *error,
    const char *description, const char *why)
{
    ngx_uint_t                level;
    ngx_http_mcp_loc_conf_t  *mlcf;

    /*
     * Who was refused and why, never the token: a client without one
     * (probing, or learning where to get one) is worth an info line, a
     * wrong one a warning.
     */

    level = error ? NGX_LOG_WARN : NGX_LOG_INFO;

    ngx_log_error(level, r->connection->log, 0,
                  "mcp: authentication %s: %s%s%s",
                  error ? "failed" : "required", why,
                  description ? ": " : "", description ? description : "");

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    if (ngx_http_mcp_auth_challenge(r, error, description,
                                    mlcf->auth->scopes ? &mlcf->auth->scope
                                                       : NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return error && ngx_strcmp(error, "invalid_request") == 0
           ? NGX_HTTP_BAD_REQUEST : NGX_HTTP_UNAUTHORIZED;
}


ngx_int_t
ngx_http_mcp_auth_insufficient(ngx_http_request_t *r, ngx_array_t *scopes)
{
    size_t                    len;
    u_char                   *p;
    ngx_str_t                 all, *s;
    ngx_uint_t                i;
    ngx_http_mcp_auth_t      *auth;
    ngx_http_mcp_loc_conf_t  *mlcf;

    /*
     * The scopes to ask for: the location's and the tool's, so that a
     * token issued for them lets the client do both.
     */

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);
    auth = mlcf->auth;

    s = scopes->elts;
    len = auth->scope.len;

    for (i = 0; i < scopes->nelts; i++) {
        len += 1 + s[i].len;
    }

    all.data = ngx_pnalloc(r->pool, len);
    if (all.data == NULL) {
        return NGX_ERROR;
    }

    p = all.data;

    if (auth->scope.len) {
        p = ngx_cpymem(p, auth->scope.data, auth->scope.len);
    }

    for (i = 0; i < scopes->nelts; i++) {
        if (ngx_http_mcp_str_listed(auth->scopes, &s[i])) {
            continue;
        }

        if (p != all.data) {
            *p++ = ' ';
        }

        p = ngx_cpymem(p, s[i].data, s[i].len);
    }

    all.len = p - all.data;

    return ngx_http_mcp_auth_challenge(r, "insufficient_scope",
                                       "the token lacks a scope", &all);
}


ngx_uint_t
ngx_http_mcp_str_listed(ngx_array_t *list, ngx_str_t *str)
{
    ngx_str_t   *s;
    ngx_uint_t   i;

    /* scopes held or needed, methods or tools named: an exact match */

    if (list == NULL) {
        return 0;
    }

    s = list->elts;

    for (i = 0; i < list->nelts; i++) {
        if (s[i].len == str->len
            && ngx_strncmp(s[i].data, str->data, str->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_mcp_auth_challenge(ngx_http_request_t *r, const char *error,
    const char *description, ngx_str_t *scope)
{
    size_t                    len;
    u_char                   *p;
    ngx_str_t                *url;
    ngx_table_elt_t          *h;
    ngx_http_mcp_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    if (error == NULL) {
        ngx_http_mcp_metrics_auth(NGX_HTTP_MCP_AUTH_MISSING);

    } else if (ngx_strcmp(error, "invalid_token") == 0) {
        ngx_http_mcp_metrics_auth(NGX_HTTP_MCP_AUTH_INVALID_TOKEN);

    } else if (ngx_strcmp(error, "invalid_request") == 0) {
        ngx_http_mcp_metrics_auth(NGX_HTTP_MCP_AUTH_INVALID_REQUEST);

    } else {
        ngx_http_mcp_metrics_auth(NGX_HTTP_MCP_AUTH_INSUFFICIENT);
    }

    url = mlcf->oauth ? ngx_http_mcp_oauth_metadata_url(mlcf->oauth) : NULL;

    len = sizeof("Bearer realm=\"\"") - 1 + mlcf->auth->realm.len;

    if (error) {
        len += sizeof(", error=\"\"") - 1 + ngx_strlen(error);
    }

    if (description) {
        len += sizeof(", error_description=\"\"") - 1
               + ngx_strlen(description);
    }

    if (scope) {
        len += sizeof(", scope=\"\"") - 1 + scope->len;
    }

    if (url) {
        len += sizeof(", resource_metadata=\"\"") - 1 + url->len;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_http_mcp_header_out(r, "WWW-Authenticate", "");
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value.data = p;

    /* RFC 6750, 3.1: no error code when no credentials were sent */

    p = ngx_sprintf(p, "Bearer realm=\"%V\"", &mlcf->auth->realm);

    if (error) {
        p = ngx_sprintf(p, ", error=\"%s\"", error);
    }

    if (description) {
        p = ngx_sprintf(p, ", error_description=\"%s\"", description);
    }

    /* MCP authorization, 2025-11-25: the scopes needed, where to learn */

    if (scope) {
        p = ngx_sprintf(p, ", scope=\"%V\"", scope);
    }

    if (url) {
        p = ngx_sprintf(p, ", resource_metadata=\"%V\"", url);
    }

    h->value.len = p - h->value.data;

    r->headers_out.www_authenticate = h;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_origin_allowed(ngx_http_request_t *r,
    ngx_http_mcp_loc_conf_t *mlcf)
{
    u_char           *p, *last;
    ngx_str_t        *allowed, origin, host;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    /*
     * DNS rebinding (2025-11-25 basic/transports, security warning): a
     * browser page may reach a gateway on the user's own network, and
     * says where it comes from in Origin.  No Origin (not a browser), an
     * origin naming this very host, or one listed, may pass.
     */

    h = ngx_http_mcp_header(r, "origin", sizeof("origin") - 1);

    if (h == NULL) {
        return NGX_OK;
    }

    origin = h->value;

    if (mlcf->origins) {
        allowed = mlcf->origins->elts;

        for (i = 0; i < mlcf->origins->nelts; i++) {
            if ((allowed[i].len == 1 && allowed[i].data[0] == '*')
                || (allowed[i].len == origin.len
                    && ngx_strncasecmp(allowed[i].data, origin.data,
                                       origin.len) == 0))
            {
                return NGX_OK;
            }
        }
    }

    /* the same host: "scheme://" then exactly the Host header */

    p = origin.data;
    last = origin.data + origin.len;

    if (origin.len > 7 && ngx_strncasecmp(p, (u_char *) "http://", 7) == 0) {
        p += 7;

    } else if (origin.len > 8
               && ngx_strncasecmp(p, (u_char *) "https://", 8) == 0)
    {
        p += 8;

    } else {
        goto refused;
    }

    if (r->headers_in.host == NULL) {
        goto refused;
    }

    host = r->headers_in.host->value;

    if ((size_t) (last - p) == host.len
        && ngx_strncasecmp(p, host.data, host.len) == 0)
    {
        return NGX_OK;
    }

refused:

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "mcp: origin \"%*s\" is not allowed",
                  ngx_min(origin.len, 256), origin.data);

    return NGX_DECLINED;
}
