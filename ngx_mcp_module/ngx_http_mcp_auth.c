
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include "ngx_http_mcp_module.h"


/*
 * Bearer tokens, checked in the access phase.  The token file holds one
 * client per line: its name, the SHA-256 of its token in hex (never the
 * token), and its scopes.  It is read with the configuration, so a
 * reload picks up changes.  A request's token is hashed and compared
 * with every client's digest in constant time.
 */


#define NGX_HTTP_MCP_AUTH_NAME_MAX   64
#define NGX_HTTP_MCP_AUTH_TOKEN_MAX  4096


typedef struct {
    ngx_str_t                 name;
    u_char                    digest[SHA256_DIGEST_LENGTH];
    ngx_array_t               scopes;       /* ngx_str_t */
} ngx_http_mcp_client_t;


struct ngx_http_mcp_auth_s {
    ngx_uint_t                enabled;
    ngx_str_t                 realm;
    ngx_str_t                 file;
    ngx_array_t               clients;      /* ngx_http_mcp_client_t */
};


static char *ngx_http_mcp_auth_read(ngx_conf_t *cf,
    ngx_http_mcp_auth_t *auth);
static char *ngx_http_mcp_auth_line(ngx_conf_t *cf,
    ngx_http_mcp_auth_t *auth, u_char *p, u_char *last, ngx_uint_t line);
static ngx_int_t ngx_http_mcp_auth_reject(ngx_http_request_t *r,
    ngx_http_mcp_auth_t *auth, const char *error, const char *why);
static ngx_int_t ngx_http_mcp_origin_allowed(ngx_http_request_t *r,
    ngx_http_mcp_loc_conf_t *mlcf);


char *
ngx_http_mcp_auth_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    ngx_str_t            *value;
    ngx_uint_t            i;
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

    if (ngx_strcmp(value[1].data, "bearer") != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", it must be \"bearer\" "
                           "or \"off\"", &value[1]);
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

            if (auth->realm.len == 0
                || ngx_strlchr(auth->realm.data,
                               auth->realm.data + auth->realm.len, '"')
                || ngx_strlchr(auth->realm.data,
                               auth->realm.data + auth->realm.len, '\\'))
            {
                return "takes a realm without quotes or backslashes";
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (auth->file.len == 0) {
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


static char *
ngx_http_mcp_auth_read(ngx_conf_t *cf, ngx_http_mcp_auth_t *auth)
{
    u_char           *buf, *p, *last, *eol;
    char             *rv;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_uint_t        line;
    ngx_file_t        file;
    ngx_file_info_t   fi;

    fd = ngx_open_file(auth->file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &auth->file);
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = auth->file;
    file.log = cf->log;

    rv = NGX_CONF_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", &auth->file);
        goto done;
    }

    /* the names and scopes point into it for the cycle's life */

    buf = ngx_pnalloc(cf->pool, ngx_file_size(&fi) + 1);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_file(&file, buf, ngx_file_size(&fi), 0);
    if (n == NGX_ERROR) {
        goto done;
    }

    if (ngx_array_init(&auth->clients, cf->pool, 16,
                       sizeof(ngx_http_mcp_client_t))
        != NGX_OK)
    {
        goto done;
    }

    p = buf;
    last = buf + n;

    for (line = 1; p < last; line++) {
        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        if (ngx_http_mcp_auth_line(cf, auth, p, eol, line) != NGX_CONF_OK) {
            goto done;
        }

        p = eol + 1;
    }

    if (auth->clients.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "the token file \"%V\" names no client: "
                           "every request will be refused", &auth->file);
    }

    rv = NGX_CONF_OK;

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", &auth->file);
    }

    return rv;
}


static char *
ngx_http_mcp_auth_line(ngx_conf_t *cf, ngx_http_mcp_auth_t *auth, u_char *p,
    u_char *last, ngx_uint_t line)
{
    u_char                 *start, *q;
    ngx_str_t               word[3], *scope;
    ngx_int_t               hi, lo;
    ngx_uint_t              n, i;
    ngx_http_mcp_client_t  *client, *other;

    /* "name digest [scope ...]", blank lines and "#" comments */

    if (last > p && last[-1] == '\r') {
        last--;
    }

    n = 0;

    client = NULL;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == last || (n == 0 && *p == '#')) {
            break;
        }

        start = p;

        while (p < last && *p != ' ' && *p != '\t') {
            if (*p < 0x21 || *p > 0x7e) {
                goto invalid;
            }

            p++;
        }

        if (n < 2) {
            word[n].data = start;
            word[n].len = p - start;
            n++;

            if (n < 2) {
                continue;
            }

            /* the name and the digest: a client */

            if (word[0].len > NGX_HTTP_MCP_AUTH_NAME_MAX
                || word[1].len != 2 * SHA256_DIGEST_LENGTH)
            {
                goto invalid;
            }

            client = ngx_array_push(&auth->clients);
            if (client == NULL) {
                return NGX_CONF_ERROR;
            }

            client->name = word[0];

            for (i = 0, q = word[1].data; i < SHA256_DIGEST_LENGTH; i++) {
                hi = ngx_hextoi(q++, 1);
                lo = ngx_hextoi(q++, 1);

                if (hi == NGX_ERROR || lo == NGX_ERROR) {
                    auth->clients.nelts--;
                    goto invalid;
                }

                client->digest[i] = (u_char) (hi << 4 | lo);
            }

            if (ngx_array_init(&client->scopes, cf->pool, 2,
                               sizeof(ngx_str_t))
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        scope = ngx_array_push(&client->scopes);
        if (scope == NULL) {
            return NGX_CONF_ERROR;
        }

        scope->data = start;
        scope->len = p - start;
    }

    if (n == 1) {
        goto invalid;
    }

    if (client == NULL) {
        return NGX_CONF_OK;
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

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid line in the token file \"%V\", line %ui: "
                       "expected \"NAME SHA256-HEX [SCOPE ...]\"",
                       &auth->file, line);

    return NGX_CONF_ERROR;
}


ngx_int_t
ngx_http_mcp_auth_handler(ngx_http_request_t *r)
{
    u_char                   *p, *last;
    ngx_str_t                 token;
    ngx_uint_t                i, found;
    ngx_table_elt_t          *h;
    ngx_http_mcp_ctx_t       *ctx;
    ngx_http_mcp_auth_t      *auth;
    ngx_http_mcp_client_t    *client, *match;
    ngx_http_mcp_loc_conf_t  *mlcf;
    u_char                    digest[SHA256_DIGEST_LENGTH];

    if (r != r->main) {
        /* tool calls are the client's request's, already checked */
        return NGX_DECLINED;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    if (mlcf->enable && ngx_http_mcp_origin_allowed(r, mlcf) != NGX_OK) {
        return NGX_HTTP_FORBIDDEN;
    }

    auth = mlcf->auth;

    if (auth == NULL || !auth->enabled) {
        return NGX_DECLINED;
    }

    h = r->headers_in.authorization;

    if (h == NULL) {
        return ngx_http_mcp_auth_reject(r, auth, NULL, "no bearer token");
    }

    /* "Bearer" SP token (RFC 6750, 2.1) */

    p = h->value.data;
    last = p + h->value.len;

    if (h->value.len < 6
        || ngx_strncasecmp(p, (u_char *) "Bearer", 6) != 0
        || (h->value.len > 6 && p[6] != ' '))
    {
        /* another scheme is as good as none (RFC 6750, 3) */
        return ngx_http_mcp_auth_reject(r, auth, NULL,
                                        "not a bearer token");
    }

    /* nginx has trimmed trailing spaces: "Bearer" alone has no token */

    p += 6;

    while (p < last && *p == ' ') {
        p++;
    }

    token.data = p;
    token.len = last - p;

    if (token.len == 0 || token.len > NGX_HTTP_MCP_AUTH_TOKEN_MAX) {
        return ngx_http_mcp_auth_reject(r, auth, "invalid_request",
                                        "a malformed bearer token");
    }

    SHA256(token.data, token.len, digest);

    /* every client is compared, in constant time, whatever matches */

    client = auth->clients.elts;
    match = NULL;

    for (i = 0; i < auth->clients.nelts; i++) {
        found = (CRYPTO_memcmp(client[i].digest, digest,
                               SHA256_DIGEST_LENGTH) == 0);

        if (found) {
            match = &client[i];
        }
    }

    if (match == NULL) {
        return ngx_http_mcp_auth_reject(r, auth, "invalid_token",
                                        "an unknown bearer token");
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    if (ctx == NULL) {
        ctx = ngx_http_mcp_ctx_create(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ctx->client = match->name;
    ctx->scopes = &match->scopes;

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_mcp_auth_reject(ngx_http_request_t *r, ngx_http_mcp_auth_t *auth,
    const char *error, const char *why)
{
    u_char           *p;
    size_t            len;
    ngx_table_elt_t  *h;

    /*
     * Who was refused and why, never the token: a client without one
     * (probing, or learning where to get one) is worth an info line, a
     * wrong one a warning.
     */

    if (error) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mcp: authentication failed: %s", why);

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp: authentication required: %s", why);
    }

    len = sizeof("Bearer realm=\"\", error=\"\"") - 1 + auth->realm.len
          + (error ? ngx_strlen(error) : 0);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_http_mcp_header_out(r, "WWW-Authenticate", "");
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.data = p;

    /* RFC 6750, 3.1: no error code when no credentials were sent */

    p = ngx_sprintf(p, "Bearer realm=\"%V\"", &auth->realm);

    if (error) {
        p = ngx_sprintf(p, ", error=\"%s\"", error);
    }

    h->value.len = p - h->value.data;

    r->headers_out.www_authenticate = h;

    return error && ngx_strcmp(error, "invalid_request") == 0
           ? NGX_HTTP_BAD_REQUEST : NGX_HTTP_UNAUTHORIZED;
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
