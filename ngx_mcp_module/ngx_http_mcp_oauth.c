
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/sha.h>
#include "ngx_http_mcp_module.h"
#include "ngx_http_mcp_jwt.h"


/*
 * The gateway as an OAuth 2.1 resource server (MCP authorization,
 * 2025-06-18 and 2025-11-25): JWT access tokens checked against the
 * configured keys, issuers and this resource; its protected resource
 * metadata (RFC 9728) for clients to find the authorization server.
 * Verified tokens are kept per worker until they expire, so a signature
 * is checked once per token, not once per request.
 */


#define NGX_HTTP_MCP_OAUTH_FILE_MAX    (1024 * 1024)
#define NGX_HTTP_MCP_OAUTH_CACHE_MAX   100000
#define NGX_HTTP_MCP_OAUTH_SCOPE_KEEP  256


/* a string that goes into a quoted header parameter as it is */

#define ngx_http_mcp_oauth_quotable(s)                                       \
    (ngx_strlchr((s)->data, (s)->data + (s)->len, '"') == NULL               \
     && ngx_strlchr((s)->data, (s)->data + (s)->len, '\\') == NULL)


typedef struct {
    ngx_rbtree_node_t         node;         /* key: the digest's start */
    ngx_queue_t               queue;
    u_char                    digest[SHA256_DIGEST_LENGTH];
    time_t                    expires;
    ngx_uint_t                issuer;
    size_t                    client_len;
    size_t                    scope_len;
    u_char                    client[NGX_HTTP_MCP_JWT_CLIENT_MAX];
    u_char                    scope[NGX_HTTP_MCP_OAUTH_SCOPE_KEEP];
} ngx_http_mcp_oauth_entry_t;


typedef struct {
    ngx_rbtree_t              rbtree;
    ngx_rbtree_node_t         sentinel;
    ngx_queue_t               used;         /* the most recent first */
    ngx_queue_t               free;
} ngx_http_mcp_oauth_cache_t;


struct ngx_http_mcp_oauth_s {
    ngx_http_mcp_jwt_policy_t    policy;
    ngx_str_t                    metadata_url;
    json_t                      *metadata;
    ngx_uint_t                   cache_size;
    ngx_http_mcp_oauth_cache_t  *cache;     /* this worker's, once used */
    ngx_uint_t                   cache_failed;
};


static char *ngx_http_mcp_oauth_resource(ngx_conf_t *cf,
    ngx_http_mcp_oauth_t *oauth, ngx_str_t *value);
static char *ngx_http_mcp_oauth_build(ngx_conf_t *cf,
    ngx_http_mcp_oauth_t *oauth, ngx_array_t *scopes);
static char *ngx_http_mcp_oauth_list(ngx_conf_t *cf, ngx_str_t *value,
    ngx_array_t *list);
static void ngx_http_mcp_oauth_json_cleanup(void *data);
static ngx_http_mcp_oauth_entry_t *ngx_http_mcp_oauth_cached(
    ngx_http_mcp_oauth_t *oauth, u_char *digest);
static void ngx_http_mcp_oauth_keep(ngx_http_mcp_oauth_t *oauth,
    u_char *digest, ngx_http_mcp_jwt_t *jwt);
static ngx_http_mcp_oauth_cache_t *ngx_http_mcp_oauth_cache_create(
    ngx_uint_t size);


char *
ngx_http_mcp_oauth_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    char                  *rv;
    time_t                 leeway;
    ngx_int_t              n;
    ngx_str_t             *value, s, file, text, *issuer;
    ngx_uint_t             i, resource;
    ngx_array_t           *scopes;
    ngx_http_mcp_oauth_t  *oauth;

    if (mlcf->oauth != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    oauth = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_oauth_t));
    if (oauth == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&oauth->policy.keys, cf->pool, 4,
                       sizeof(ngx_http_mcp_jwk_t))
        != NGX_OK
        || ngx_array_init(&oauth->policy.issuers, cf->pool, 1,
                          sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    scopes = NULL;
    resource = 0;
    oauth->policy.leeway = 60;
    oauth->cache_size = 1024;
    ngx_str_set(&oauth->policy.client_claim, "sub");

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "resource=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            rv = ngx_http_mcp_oauth_resource(cf, oauth, &s);
            if (rv != NGX_CONF_OK) {
                return rv;
            }

            resource = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "issuer=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            if (s.len == 0 || !ngx_http_mcp_oauth_quotable(&s)
                || oauth->policy.issuers.nelts == NGX_HTTP_MCP_JWT_ISSUERS)
            {
                goto invalid;
            }

            issuer = ngx_array_push(&oauth->policy.issuers);
            if (issuer == NULL) {
                return NGX_CONF_ERROR;
            }

            *issuer = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "jwks=", 5) == 0
            || ngx_strncmp(value[i].data, "hmac_secret=", 12) == 0)
        {
            n = (value[i].data[0] == 'j') ? 5 : 12;

            file.data = value[i].data + n;
            file.len = value[i].len - n;

            if (file.len == 0
                || ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK
                || ngx_http_mcp_conf_file(cf, &file,
                                          NGX_HTTP_MCP_OAUTH_FILE_MAX, &text)
                   != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            rv = (n == 5) ? ngx_http_mcp_jwks_parse(cf->pool, cf->log,
                                                    text.data, text.len,
                                                    &oauth->policy.keys)
                          : ngx_http_mcp_jwt_secret(text.data, text.len,
                                                    &oauth->policy.keys);

            if (rv != NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "the %s file \"%V\" %s",
                                   n == 5 ? "JWKS" : "HMAC secret", &file,
                                   rv);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "scopes_supported=", 17) == 0) {
            s.data = value[i].data + 17;
            s.len = value[i].len - 17;

            scopes = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
            if (scopes == NULL) {
                return NGX_CONF_ERROR;
            }

            if (ngx_http_mcp_oauth_list(cf, &s, scopes) != NGX_CONF_OK) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "client_claim=", 13) == 0) {
            s.data = value[i].data + 13;
            s.len = value[i].len - 13;

            if (s.len == 0 || s.len > 64) {
                goto invalid;
            }

            oauth->policy.client_claim = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "leeway=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            leeway = ngx_parse_time(&s, 1);

            if (leeway == (time_t) NGX_ERROR || leeway > 3600) {
                goto invalid;
            }

            oauth->policy.leeway = leeway;
            continue;
        }

        if (ngx_strncmp(value[i].data, "cache=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (n == NGX_ERROR || n > NGX_HTTP_MCP_OAUTH_CACHE_MAX) {
                goto invalid;
            }

            oauth->cache_size = n;
            continue;
        }

        goto invalid;
    }

    if (!resource) {
        return "needs \"resource=\", the canonical URI of the MCP server";
    }

    if (oauth->policy.issuers.nelts == 0) {
        return "needs \"issuer=\", an authorization server";
    }

    if (oauth->policy.keys.nelts == 0) {
        return "needs \"jwks=\" or \"hmac_secret=\", the keys of tokens";
    }

    rv = ngx_http_mcp_oauth_build(cf, oauth, scopes);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    mlcf->oauth = oauth;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_mcp_oauth_resource(ngx_conf_t *cf, ngx_http_mcp_oauth_t *oauth,
    ngx_str_t *value)
{
    size_t   skip;
    u_char  *p, *last, *path;

    /*
     * RFC 8707, 2: an absolute URI without a fragment; the MCP spec's
     * canonical form has no query either.  Its metadata is at the
     * well-known path inserted before its path (RFC 9728, 3.1).
     */

    if (value->len > 8
        && ngx_strncasecmp(value->data, (u_char *) "https://", 8) == 0)
    {
        skip = 8;

    } else if (value->len > 7
               && ngx_strncasecmp(value->data, (u_char *) "http://", 7) == 0)
    {
        skip = 7;

    } else {
        goto invalid;
    }

    last = value->data + value->len;

    for (p = value->data; p < last; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\'
            || *p == '#' || *p == '?')
        {
            goto invalid;
        }
    }

    path = ngx_strlchr(value->data + skip, last, '/');

    if (path == value->data + skip) {
        goto invalid;
    }

    if (path == NULL) {
        path = last;
    }

    oauth->policy.audience = *value;

    oauth->metadata_url.len = value->len
                              + sizeof("/.well-known/oauth-protected-resource")
                              - 1;
    oauth->metadata_url.data = ngx_pnalloc(cf->pool,
                                           oauth->metadata_url.len);
    if (oauth->metadata_url.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(oauth->metadata_url.data, value->data, path - value->data);
    p = ngx_cpymem(p, "/.well-known/oauth-protected-resource",
                   sizeof("/.well-known/oauth-protected-resource") - 1);

    /* "https://host/" is "https://host" */

    if (last - path > 1) {
        p = ngx_cpymem(p, path, last - path);
    }

    oauth->metadata_url.len = p - oauth->metadata_url.data;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid \"resource=%V\": an http or https URI "
                       "with a host and no query or fragment is expected",
                       value);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_mcp_oauth_build(ngx_conf_t *cf, ngx_http_mcp_oauth_t *oauth,
    ngx_array_t *scopes)
{
    json_t              *md, *list;
    ngx_str_t           *s;
    ngx_uint_t           i;
    ngx_pool_cleanup_t  *cln;

    /* the protected resource metadata, RFC 9728, 2 */

    md = json_object();
    if (md == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        json_decref(md);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_mcp_oauth_json_cleanup;
    cln->data = md;

    oauth->metadata = md;

    if (json_object_set_new(md, "resource",
                            json_stringn((char *) oauth->policy.audience.data,
                                         oauth->policy.audience.len))
        != 0)
    {
        return NGX_CONF_ERROR;
    }

    list = json_array();

    if (json_object_set_new(md, "authorization_servers", list) != 0) {
        return NGX_CONF_ERROR;
    }

    s = oauth->policy.issuers.elts;

    for (i = 0; i < oauth->policy.issuers.nelts; i++) {
        if (json_array_append_new(list, json_stringn((char *) s[i].data,
                                                     s[i].len))
            != 0)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (scopes) {
        list = json_array();

        if (json_object_set_new(md, "scopes_supported", list) != 0) {
            return NGX_CONF_ERROR;
        }

        s = scopes->elts;

        for (i = 0; i < scopes->nelts; i++) {
            if (json_array_append_new(list, json_stringn((char *) s[i].data,
                                                         s[i].len))
                != 0)
            {
                return NGX_CONF_ERROR;
            }
        }
    }

    /* tokens are taken from the Authorization header only */

    if (json_object_set_new(md, "bearer_methods_supported",
                            json_pack("[s]", "header"))
        != 0)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_oauth_list(ngx_conf_t *cf, ngx_str_t *value, ngx_array_t *list)
{
    u_char     *p, *last, *start;
    ngx_str_t  *item;

    /* "a,b,c" of scope tokens (RFC 6749, 3.3) */

    p = value->data;
    last = p + value->len;

    for ( ;; ) {
        start = p;

        while (p < last && *p != ',') {
            if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\') {
                return NGX_CONF_ERROR;
            }

            p++;
        }

        if (p == start) {
            return NGX_CONF_ERROR;
        }

        item = ngx_array_push(list);
        if (item == NULL) {
            return NGX_CONF_ERROR;
        }

        item->data = start;
        item->len = p - start;

        if (p == last) {
            return NGX_CONF_OK;
        }

        p++;
    }
}


static void
ngx_http_mcp_oauth_json_cleanup(void *data)
{
    json_decref(data);
}


char *
ngx_http_mcp_oauth_scopes(ngx_conf_t *cf, ngx_str_t *value,
    ngx_array_t **scopes)
{
    *scopes = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
    if (*scopes == NULL) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_mcp_oauth_list(cf, value, *scopes);
}


ngx_str_t *
ngx_http_mcp_oauth_metadata_url(ngx_http_mcp_oauth_t *oauth)
{
    return &oauth->metadata_url;
}


ngx_int_t
ngx_http_mcp_oauth_metadata_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_table_elt_t          *h;
    ngx_http_mcp_loc_conf_t  *mlcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    /* public, and read by browser-based clients too */

    h = ngx_http_mcp_header_out(r, "Access-Control-Allow-Origin", "*");
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_send_json(r, NGX_HTTP_OK, mlcf->oauth->metadata);
}


ngx_int_t
ngx_http_mcp_oauth_verify(ngx_http_request_t *r, ngx_http_mcp_oauth_t *oauth,
    ngx_str_t *token, ngx_str_t *client, ngx_str_t *principal,
    ngx_str_t *scope, const char **error)
{
    u_char                      *p;
    ngx_int_t                    rc;
    ngx_http_mcp_jwt_t           jwt;
    ngx_http_mcp_oauth_entry_t  *e;
    u_char                       digest[SHA256_DIGEST_LENGTH];

    SHA256(token->data, token->len, digest);

    e = ngx_http_mcp_oauth_cached(oauth, digest);

    if (e) {
        p = ngx_pnalloc(r->pool, e->client_len + e->scope_len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        jwt.client.data = p;
        jwt.client.len = e->client_len;
        ngx_memcpy(p, e->client, e->client_len);

        jwt.scope.data = p + e->client_len;
        jwt.scope.len = e->scope_len;
        ngx_memcpy(jwt.scope.data, e->scope, e->scope_len);

        jwt.issuer = e->issuer;

    } else {
        rc = ngx_http_mcp_jwt_verify(r->pool, &oauth->policy, token,
                                     ngx_time(), &jwt);

        if (rc != NGX_OK) {
            *error = jwt.error;
            return rc;
        }

        ngx_http_mcp_oauth_keep(oauth, digest, &jwt);
    }

    /*
     * A subject is unique within its issuer only, and static clients
     * have names without ":": the sessions are owned by "<issuer>:<sub>"
     */

    principal->data = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 1
                                           + jwt.client.len);
    if (principal->data == NULL) {
        return NGX_ERROR;
    }

    principal->len = ngx_sprintf(principal->data, "%ui:%V", jwt.issuer,
                                 &jwt.client)
                     - principal->data;

    *client = jwt.client;
    *scope = jwt.scope;

    return NGX_OK;
}


static ngx_http_mcp_oauth_entry_t *
ngx_http_mcp_oauth_cached(ngx_http_mcp_oauth_t *oauth, u_char *digest)
{
    ngx_rbtree_key_t             key;
    ngx_rbtree_node_t           *node, *sentinel;
    ngx_http_mcp_oauth_cache_t  *cache;
    ngx_http_mcp_oauth_entry_t  *e;

    cache = oauth->cache;

    if (cache == NULL) {
        return NULL;
    }

    ngx_memcpy(&key, digest, sizeof(ngx_rbtree_key_t));

    node = cache->rbtree.root;
    sentinel = cache->rbtree.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        e = (ngx_http_mcp_oauth_entry_t *) node;

        if (ngx_memcmp(e->digest, digest, SHA256_DIGEST_LENGTH) != 0) {
            return NULL;
        }

        ngx_queue_remove(&e->queue);

        if (e->expires < ngx_time()) {
            ngx_rbtree_delete(&cache->rbtree, &e->node);
            ngx_queue_insert_head(&cache->free, &e->queue);
            return NULL;
        }

        ngx_queue_insert_head(&cache->used, &e->queue);

        return e;
    }

    return NULL;
}


static void
ngx_http_mcp_oauth_keep(ngx_http_mcp_oauth_t *oauth, u_char *digest,
    ngx_http_mcp_jwt_t *jwt)
{
    ngx_queue_t                 *q;
    ngx_http_mcp_oauth_cache_t  *cache;
    ngx_http_mcp_oauth_entry_t  *e;

    if (oauth->cache_size == 0 || oauth->cache_failed
        || jwt->scope.len > NGX_HTTP_MCP_OAUTH_SCOPE_KEEP)
    {
        return;
    }

    if (oauth->cache == NULL) {
        oauth->cache = ngx_http_mcp_oauth_cache_create(oauth->cache_size);
        if (oauth->cache == NULL) {
            /* once: without memory for it, tokens are checked each time */
            oauth->cache_failed = 1;
            return;
        }
    }

    cache = oauth->cache;

    /* a free entry, or the least recently used one */

    if (!ngx_queue_empty(&cache->free)) {
        q = ngx_queue_head(&cache->free);

    } else {
        q = ngx_queue_last(&cache->used);
        e = ngx_queue_data(q, ngx_http_mcp_oauth_entry_t, queue);
        ngx_rbtree_delete(&cache->rbtree, &e->node);
    }

    ngx_queue_remove(q);
    ngx_queue_insert_head(&cache->used, q);

    e = ngx_queue_data(q, ngx_http_mcp_oauth_entry_t, queue);

    ngx_memcpy(e->digest, digest, SHA256_DIGEST_LENGTH);
    ngx_memcpy(&e->node.key, digest, sizeof(ngx_rbtree_key_t));
    e->expires = jwt->expires;
    e->issuer = jwt->issuer;
    e->client_len = jwt->client.len;
    ngx_memcpy(e->client, jwt->client.data, jwt->client.len);
    e->scope_len = jwt->scope.len;
    ngx_memcpy(e->scope, jwt->scope.data, jwt->scope.len);

    ngx_rbtree_insert(&cache->rbtree, &e->node);
}


static ngx_http_mcp_oauth_cache_t *
ngx_http_mcp_oauth_cache_create(ngx_uint_t size)
{
    ngx_uint_t                   i;
    ngx_http_mcp_oauth_cache_t  *cache;
    ngx_http_mcp_oauth_entry_t  *e;

    /* the worker's, for its life: the cycle's pool */

    cache = ngx_palloc(ngx_cycle->pool, sizeof(ngx_http_mcp_oauth_cache_t)
                                        + size
                                          * sizeof(ngx_http_mcp_oauth_entry_t));
    if (cache == NULL) {
        return NULL;
    }

    ngx_rbtree_init(&cache->rbtree, &cache->sentinel,
                    ngx_rbtree_insert_value);
    ngx_queue_init(&cache->used);
    ngx_queue_init(&cache->free);

    e = (ngx_http_mcp_oauth_entry_t *) (cache + 1);

    for (i = 0; i < size; i++) {
        ngx_queue_insert_tail(&cache->free, &e[i].queue);
    }

    return cache;
}
