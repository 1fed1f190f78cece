
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/rand.h>
#include "ngx_http_mcp_module.h"


/*
 * The session store: an rbtree keyed by a hash of the session id plus an
 * LRU queue in a shared zone, so any worker can take any request of any
 * session.  Idle sessions expire lazily, a few at a time, on allocation
 * and on lookup.
 */


#define NGX_HTTP_MCP_SESSION_DEFAULT_IDLE  (60 * 60 * 1000)
#define NGX_HTTP_MCP_SESSION_EVICT_IDLE    (60 * 1000)


typedef struct {
    u_char                    color;
    u_char                    version;
    u_char                    legacy;
    u_char                    registered;   /* in Redis, when configured */
    uint16_t                  requests;     /* in progress on this host */
    ngx_pid_t                 stream;       /* worker holding the GET stream */
    uint32_t                  serial;       /* streams opened so far */
    ngx_msec_t                last;
    ngx_msec_t                checked;      /* last confirmed by Redis */
    ngx_msec_t                owner_checked;
    u_char                    client_len;
    u_char                    client[NGX_HTTP_MCP_CLIENT_LEN];
    u_char                    owner_len;
    u_char                    owner[NGX_HTTP_MCP_OWNER_LEN];
    ngx_queue_t               queue;
    u_char                    id[NGX_HTTP_MCP_SESSION_ID_LEN];
} ngx_http_mcp_session_node_t;


typedef struct {
    ngx_rbtree_t              rbtree;
    ngx_rbtree_node_t         sentinel;
    ngx_queue_t               queue;
    ngx_uint_t                count;
    ngx_uint_t                evicted;
    ngx_atomic_t              delivery[NGX_HTTP_MCP_DELIVERY_NCOUNTERS];
    u_char                    instance[NGX_HTTP_MCP_INSTANCE_LEN];
    ngx_atomic_t              registered;   /* when all were, by anyone */
} ngx_http_mcp_session_shctx_t;


typedef struct {
    ngx_http_mcp_session_shctx_t  *sh;
    ngx_slab_pool_t               *shpool;
    ngx_msec_t                     idle_timeout;
} ngx_http_mcp_session_ctx_t;


static ngx_int_t ngx_http_mcp_session_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_mcp_session_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_mcp_session_node_t *ngx_http_mcp_session_lookup(
    ngx_http_mcp_session_ctx_t *ctx, u_char *id, uint32_t hash);
static void ngx_http_mcp_session_free(ngx_http_mcp_session_ctx_t *ctx,
    ngx_http_mcp_session_node_t *sn);
static void ngx_http_mcp_session_expire(ngx_http_mcp_session_ctx_t *ctx,
    ngx_uint_t n);
static ngx_rbtree_node_t *ngx_http_mcp_session_alloc(
    ngx_http_mcp_session_ctx_t *ctx, ngx_uint_t *evicted);
static ngx_int_t ngx_http_mcp_session_idle(ngx_http_mcp_session_ctx_t *ctx,
    ngx_http_mcp_session_node_t *sn);
static ngx_int_t ngx_http_mcp_session_evict(ngx_http_mcp_session_ctx_t *ctx);
static ngx_http_mcp_session_node_t *ngx_http_mcp_session_locate(
    ngx_http_mcp_session_ctx_t *ctx, ngx_str_t *id);
static ngx_int_t ngx_http_mcp_session_insert(ngx_shm_zone_t *shm_zone,
    ngx_str_t *id, ngx_http_mcp_session_info_t *info, ngx_log_t *log);
static ngx_uint_t ngx_http_mcp_session_count_client(
    ngx_http_mcp_session_ctx_t *ctx, ngx_http_mcp_session_info_t *info);


#define ngx_http_mcp_session_node(node)                                      \
    ((ngx_http_mcp_session_node_t *) &(node)->color)

#define ngx_http_mcp_session_rbnode(sn)                                      \
    ((ngx_rbtree_node_t *) ((u_char *) (sn)                                  \
                            - offsetof(ngx_rbtree_node_t, color)))


char *
ngx_http_mcp_session_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_main_conf_t  *mmcf = conf;

    ssize_t                      size;
    ngx_str_t                   *value, name, s;
    ngx_uint_t                   i;
    ngx_msec_t                   idle;
    ngx_http_mcp_session_ctx_t  *ctx;

    if (mmcf->session_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name.len = 0;
    size = 0;
    idle = NGX_HTTP_MCP_SESSION_DEFAULT_IDLE;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            if (ngx_http_mcp_conf_zone(cf, &value[i], &name, &size)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "idle_timeout=", 13) == 0) {

            s.data = value[i].data + 13;
            s.len = value[i].len - 13;

            idle = ngx_parse_time(&s, 0);

            if (idle == (ngx_msec_t) NGX_ERROR || idle == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid idle_timeout \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_session_ctx_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    ctx->idle_timeout = idle;

    mmcf->session_zone = ngx_shared_memory_add(cf, &name, size,
                                               &ngx_http_mcp_module);
    if (mmcf->session_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (mmcf->session_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    mmcf->session_zone->init = ngx_http_mcp_session_init_zone;
    mmcf->session_zone->data = ctx;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mcp_session_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_mcp_session_ctx_t  *octx = data;

    size_t                       len;
    ngx_uint_t                   i;
    u_char                       raw[NGX_HTTP_MCP_INSTANCE_LEN / 2];
    ngx_http_mcp_session_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        /* a reload keeps the sessions; idle_timeout may change */
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;
        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;
        return NGX_OK;
    }

    ctx->sh = ngx_slab_alloc(ctx->shpool,
                             sizeof(ngx_http_mcp_session_shctx_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    ngx_rbtree_init(&ctx->sh->rbtree, &ctx->sh->sentinel,
                    ngx_http_mcp_session_rbtree_insert);
    ngx_queue_init(&ctx->sh->queue);
    ctx->sh->count = 0;
    ctx->sh->evicted = 0;

    for (i = 0; i < NGX_HTTP_MCP_DELIVERY_NCOUNTERS; i++) {
        ctx->sh->delivery[i] = 0;
    }

    /* names this nginx instance for as long as the zone lives */

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        return NGX_ERROR;
    }

    ngx_hex_dump(ctx->sh->instance, raw, sizeof(raw));

    ctx->sh->registered = 0;

    len = sizeof(" in mcp session zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in mcp session zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is reported by us, as a refused session, not as crit */
    ctx->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_mcp_session_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t            **p;
    ngx_http_mcp_session_node_t   *sn, *snt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            sn = ngx_http_mcp_session_node(node);
            snt = ngx_http_mcp_session_node(temp);

            p = (ngx_memcmp(sn->id, snt->id, NGX_HTTP_MCP_SESSION_ID_LEN)
                 < 0) ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_http_mcp_session_node_t *
ngx_http_mcp_session_lookup(ngx_http_mcp_session_ctx_t *ctx, u_char *id,
    uint32_t hash)
{
    ngx_int_t                     rc;
    ngx_rbtree_node_t            *node, *sentinel;
    ngx_http_mcp_session_node_t  *sn;

    node = ctx->sh->rbtree.root;
    sentinel = ctx->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        sn = ngx_http_mcp_session_node(node);

        rc = ngx_memcmp(id, sn->id, NGX_HTTP_MCP_SESSION_ID_LEN);

        if (rc == 0) {
            return sn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_mcp_session_free(ngx_http_mcp_session_ctx_t *ctx,
    ngx_http_mcp_session_node_t *sn)
{
    ngx_rbtree_node_t  *node;

    node = ngx_http_mcp_session_rbnode(sn);

    ngx_queue_remove(&sn->queue);
    ngx_rbtree_delete(&ctx->sh->rbtree, node);
    ngx_slab_free_locked(ctx->shpool, node);

    ctx->sh->count--;
}


static ngx_int_t
ngx_http_mcp_session_idle(ngx_http_mcp_session_ctx_t *ctx,
    ngx_http_mcp_session_node_t *sn)
{
    ngx_msec_int_t  idle;

    /*
     * Each worker caches its own time; a session touched by a worker
     * whose clock ran ahead has "last" in our future: not idle at all.
     */

    idle = (ngx_msec_int_t) (ngx_current_msec - sn->last);

    return idle >= (ngx_msec_int_t) ctx->idle_timeout;
}


static void
ngx_http_mcp_session_expire(ngx_http_mcp_session_ctx_t *ctx, ngx_uint_t n)
{
    ngx_queue_t                  *q;
    ngx_http_mcp_session_node_t  *sn;

    /* the LRU tail holds the longest idle sessions */

    while (n-- && !ngx_queue_empty(&ctx->sh->queue)) {

        q = ngx_queue_last(&ctx->sh->queue);
        sn = ngx_queue_data(q, ngx_http_mcp_session_node_t, queue);

        if (!ngx_http_mcp_session_idle(ctx, sn)) {
            return;
        }

        ngx_http_mcp_session_free(ctx, sn);
    }
}


static ngx_rbtree_node_t *
ngx_http_mcp_session_alloc(ngx_http_mcp_session_ctx_t *ctx,
    ngx_uint_t *evicted)
{
    size_t              size;
    ngx_rbtree_node_t  *node;

    size = offsetof(ngx_rbtree_node_t, color)
           + sizeof(ngx_http_mcp_session_node_t);

    ngx_http_mcp_session_expire(ctx, 2);

    node = ngx_slab_alloc_locked(ctx->shpool, size);

    if (node == NULL) {
        ngx_http_mcp_session_expire(ctx, 64);
        node = ngx_slab_alloc_locked(ctx->shpool, size);
    }

    if (node == NULL && evicted
        && ngx_http_mcp_session_evict(ctx) == NGX_OK)
    {
        *evicted = 1;
        node = ngx_slab_alloc_locked(ctx->shpool, size);
    }

    return node;
}


static ngx_int_t
ngx_http_mcp_session_evict(ngx_http_mcp_session_ctx_t *ctx)
{
    ngx_queue_t                  *q;
    ngx_msec_int_t                idle;
    ngx_http_mcp_session_node_t  *sn;

    /*
     * A full zone gives up its least recently used session, so a burst
     * of abandoned sessions cannot lock new clients out until they
     * expire; sessions used within the last minute are never taken.
     */

    if (ngx_queue_empty(&ctx->sh->queue)) {
        return NGX_DECLINED;
    }

    q = ngx_queue_last(&ctx->sh->queue);
    sn = ngx_queue_data(q, ngx_http_mcp_session_node_t, queue);

    idle = (ngx_msec_int_t) (ngx_current_msec - sn->last);

    if (idle < NGX_HTTP_MCP_SESSION_EVICT_IDLE) {
        return NGX_DECLINED;
    }

    ngx_http_mcp_session_free(ctx, sn);
    ctx->sh->evicted++;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_session_create(ngx_shm_zone_t *shm_zone,
    ngx_http_mcp_session_info_t *info, u_char *id, ngx_log_t *log)
{
    ngx_str_t  sid;
    u_char     raw[NGX_HTTP_MCP_SESSION_BYTES];

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "RAND_bytes() failed for an mcp session id");
        return NGX_ERROR;
    }

    ngx_hex_dump(id, raw, sizeof(raw));

    sid.data = id;
    sid.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    info->registered = 0;

    return ngx_http_mcp_session_insert(shm_zone, &sid, info, log);
}


ngx_int_t
ngx_http_mcp_session_import(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_http_mcp_session_info_t *info, ngx_log_t *log)
{
    ngx_int_t                     rc;
    ngx_http_mcp_session_ctx_t   *ctx;
    ngx_http_mcp_session_node_t  *sn;

    /* a session known to Redis, made or refreshed here */

    if (id->len != NGX_HTTP_MCP_SESSION_ID_LEN) {
        return NGX_DECLINED;
    }

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_mcp_session_locate(ctx, id);

    if (sn) {
        if (sn->version == 0) {
            sn->version = (u_char) info->version;
        }

        sn->legacy = (u_char) info->legacy;
        sn->registered = 1;
        sn->checked = ngx_current_msec;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (sn) {
        return NGX_OK;
    }

    info->stream = 0;
    info->registered = 1;

    rc = ngx_http_mcp_session_insert(shm_zone, id, info, log);

    return (rc == NGX_DECLINED) ? NGX_OK : rc;
}


static ngx_int_t
ngx_http_mcp_session_insert(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_http_mcp_session_info_t *info, ngx_log_t *log)
{
    ngx_uint_t                    evicted;
    ngx_rbtree_node_t            *node;
    ngx_http_mcp_session_ctx_t   *ctx;
    ngx_http_mcp_session_node_t  *sn;

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    /* two workers may import the same session at once: one wins */

    if (ngx_http_mcp_session_lookup(ctx, id->data,
                                    ngx_crc32_short(id->data, id->len)))
    {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_DECLINED;
    }

    if (info->max_per_client && info->client_len
        && ngx_http_mcp_session_count_client(ctx, info)
           >= info->max_per_client)
    {
        ngx_shmtx_unlock(&ctx->shpool->mutex);

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mcp: client \"%*s\" has %ui sessions, "
                      "mcp_max_client_sessions; a new one was refused",
                      info->client_len, info->client, info->max_per_client);
        return NGX_ABORT;
    }

    evicted = 0;

    node = ngx_http_mcp_session_alloc(ctx, &evicted);

    if (node == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mcp session zone \"%V\" is full, "
                      "a new session was refused", &shm_zone->shm.name);
        return NGX_BUSY;
    }

    node->key = ngx_crc32_short(id->data, id->len);

    sn = ngx_http_mcp_session_node(node);
    sn->version = (u_char) info->version;
    sn->legacy = (u_char) info->legacy;
    sn->registered = (u_char) info->registered;
    sn->client_len = (u_char) ngx_min(info->client_len,
                                      NGX_HTTP_MCP_CLIENT_LEN);
    ngx_memcpy(sn->client, info->client, sn->client_len);

    /* a legacy session is born with its stream, held by the creator */
    sn->stream = info->stream;
    sn->serial = info->stream ? 1 : 0;
    info->serial = sn->serial;

    sn->last = ngx_current_msec;
    sn->checked = ngx_current_msec;
    sn->owner_checked = 0;
    sn->owner_len = 0;

    /* the slab's memory is not cleared: a freed session's count stays */
    sn->requests = 0;

    ngx_memcpy(sn->id, id->data, NGX_HTTP_MCP_SESSION_ID_LEN);

    ngx_rbtree_insert(&ctx->sh->rbtree, node);
    ngx_queue_insert_head(&ctx->sh->queue, &sn->queue);
    ctx->sh->count++;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (evicted) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mcp session zone \"%V\" is full, the least "
                      "recently used session was ended", &shm_zone->shm.name);
    }

    return NGX_OK;
}


void
ngx_http_mcp_session_mark(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_uint_t registered)
{
    ngx_http_mcp_session_ctx_t   *ctx;
    ngx_http_mcp_session_node_t  *sn;

    /* Redis has it now (or, after a failed write, does not) */

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_mcp_session_locate(ctx, id);

    if (sn) {
        sn->registered = (u_char) registered;
        sn->checked = ngx_current_msec;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


ngx_int_t
ngx_http_mcp_session_enter(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_uint_t max)
{
    ngx_int_t                     rc;
    ngx_http_mcp_session_ctx_t   *ctx;
    ngx_http_mcp_session_node_t  *sn;

    /* one more request of the session in progress, up to max */

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_mcp_session_locate(ctx, id);

    if (sn == NULL) {
        rc = NGX_DECLINED;

    } else if (sn->requests >= max) {
        rc = NGX_BUSY;

    } else {
        sn->requests++;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


void
ngx_http_mcp_session_leave(ngx_shm_zone_t *shm_zone, ngx_str_t *id)
{
    ngx_http_mcp_session_ctx_t   *ctx;
    ngx_http_mcp_session_node_t  *sn;

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_mcp_session_locate(ctx, id);

    if (sn && sn->requests) {
        sn->requests--;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


ngx_uint_t
ngx_http_mcp_session_register_all(ngx_shm_zone_t *shm_zone, ngx_uint_t all,
    ngx_http_mcp_session_walk_pt handler, void *data)
{
    ngx_uint_t                    n;
    ngx_queue_t                  *q;
    ngx_http_mcp_session_ctx_t   *ctx;
    ngx_http_mcp_session_node_t  *sn;
    ngx_http_mcp_session_info_t   info;
    ngx_str_t                     id;

    /*
     * Sessions made while Redis was away (or all of them, for a Redis
     * that may have lost them), handed over; the handler only queues a
     * command, so the lock is held briefly.
     */

    ctx = shm_zone->data;
    n = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    for (q = ngx_queue_head(&ctx->sh->queue);
         q != ngx_queue_sentinel(&ctx->sh->queue);
         q = ngx_queue_next(q))
    {
        sn = ngx_queue_data(q, ngx_http_mcp_session_node_t, queue);

        /* a legacy session is registered by the host holding its stream */

        if ((sn->registered && !all) || (sn->legacy && sn->stream == 0)) {
            continue;
        }

        id.data = sn->id;
        id.len = NGX_HTTP_MCP_SESSION_ID_LEN;
        info.version = sn->version;
        info.legacy = sn->legacy;
        info.stream = sn->stream;
        info.client_len = sn->client_len;
        ngx_memcpy(info.client, sn->client, sn->client_len);

        if (handler(data, &id, &info) == NGX_OK) {
            sn->registered = 1;
            n++;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return n;
}


static ngx_http_mcp_session_node_t *
ngx_http_mcp_session_locate(ngx_http_mcp_session_ctx_t *ctx, ngx_str_t *id)
{
    ngx_http_mcp_session_node_t  *sn;

    /* under the zone's lock; an expired session is gone */

    if (id->len != NGX_HTTP_MCP_SESSION_ID_LEN) {
        return NULL;
    }

    sn = ngx_http_mcp_session_lookup(ctx, id->data,
                                     ngx_crc32_short(id->data, id->len));

    if (sn != NULL && ngx_http_mcp_session_idle(ctx, sn)) {
        ngx_http_mcp_session_free(ctx, sn);
        return NULL;
    }

    return sn;
}


ngx_int_t
ngx_http_mcp_session_find(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_http_mcp_session_info_t *info)
{
    ngx_http_mcp_session_ctx_t   *ctx;
    ngx_http_mcp_session_node_t  *sn;

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_mcp_session_locate(ctx, id);

    if (sn != NULL) {
        /* another worker's clock may be a few ms ahead of ours */

        if ((ngx_msec_int_t) (ngx_current_msec - sn->last) > 0) {
            sn->last = ngx_current_msec;
        }

        ngx_queue_remove(&sn->queue);
        ngx_queue_insert_head(&ctx->sh->queue, &sn->queue);

        info->version = sn->version;
        info->legacy = sn->legacy;
        info->stream = sn->stream;
        info->serial = sn->serial;
        info->registered = sn->registered;
        info->checked = sn->checked;
        info->client_len = sn->client_len;
        ngx_memcpy(info->client, sn->client, sn->client_len);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return sn ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_mcp_session_delete(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_pid_t *stream)
{
    ngx_int_t                     rc;
    ngx_http_mcp_session_ctx_t   *ctx;
    ngx_http_mcp_session_node_t  *sn;

    ctx = shm_zone->data;
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_mcp_session_locate(ctx, id);

    *stream = 0;

    if (sn != NULL) {
        /* the worker holding the session's stream is told to end it */
        *stream = sn->stream;

        ngx_http_mcp_session_free(ctx, sn);
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


ngx_int_t
ngx_http_mcp_session_initialize(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_uint_t version)
{
    ngx_int_t                     rc;
    ngx_http_mcp_session_ctx_t   *ctx;
    ngx_http_mcp_session_node_t  *sn;

    /* a legacy session learns its revision from its first initialize */

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_mcp_session_locate(ctx, id);

    if (sn == NULL) {
        rc = NGX_DECLINED;

    } else if (sn->version != 0) {
        rc = NGX_BUSY;

    } else {
        sn->version = (u_char) version;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


ngx_int_t
ngx_http_mcp_session_stream_claim(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_pid_t pid, uint32_t *serial)
{
    ngx_int_t                     rc;
    ngx_http_mcp_session_ctx_t   *ctx;
    ngx_http_mcp_session_node_t  *sn;

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_mcp_session_locate(ctx, id);

    if (sn == NULL) {
        rc = NGX_DECLINED;

    } else if (sn->stream != 0
               && (sn->stream == pid || kill(sn->stream, 0) == 0))
    {
        /* one stream per session; a dead worker's claim is void */
        rc = NGX_BUSY;

    } else {
        sn->stream = pid;
        *serial = ++sn->serial;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


void
ngx_http_mcp_session_stream_release(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_pid_t pid)
{
    ngx_http_mcp_session_ctx_t   *ctx;
    ngx_http_mcp_session_node_t  *sn;

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_mcp_session_locate(ctx, id);

    if (sn != NULL && sn->stream == pid) {
        sn->stream = 0;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


ngx_int_t
ngx_http_mcp_session_ready(ngx_shm_zone_t *shm_zone, ngx_uint_t *sessions)
{
    ngx_rbtree_node_t           *node;
    ngx_http_mcp_session_ctx_t  *ctx;

    /* ready means a new session would fit now */

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    node = ngx_http_mcp_session_alloc(ctx, NULL);

    if (node) {
        ngx_slab_free_locked(ctx->shpool, node);
    }

    *sessions = ctx->sh->count;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return node ? NGX_OK : NGX_BUSY;
}


void
ngx_http_mcp_session_count(ngx_shm_zone_t *shm_zone, ngx_uint_t what)
{
    ngx_http_mcp_session_ctx_t  *ctx;

    ctx = shm_zone->data;

    (void) ngx_atomic_fetch_add(&ctx->sh->delivery[what], 1);
}


ngx_atomic_uint_t
ngx_http_mcp_session_counter(ngx_shm_zone_t *shm_zone, ngx_uint_t what)
{
    ngx_http_mcp_session_ctx_t  *ctx;

    ctx = shm_zone->data;

    return ctx->sh->delivery[what];
}


void
ngx_http_mcp_session_instance(ngx_shm_zone_t *shm_zone, ngx_str_t *name)
{
    ngx_http_mcp_session_ctx_t  *ctx;

    ctx = shm_zone->data;

    name->data = ctx->sh->instance;
    name->len = NGX_HTTP_MCP_INSTANCE_LEN;
}


ngx_msec_t
ngx_http_mcp_session_idle_timeout(ngx_shm_zone_t *shm_zone)
{
    ngx_http_mcp_session_ctx_t  *ctx;

    ctx = shm_zone->data;

    return ctx->idle_timeout;
}


ngx_int_t
ngx_http_mcp_session_owner(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    u_char *owner, size_t *len, ngx_msec_t max_age)
{
    ngx_int_t                     rc;
    ngx_http_mcp_session_ctx_t   *ctx;
    ngx_http_mcp_session_node_t  *sn;

    /* where Redis said the session's stream was, if said lately */

    ctx = shm_zone->data;
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_mcp_session_locate(ctx, id);

    if (sn && sn->owner_len
        && (ngx_msec_int_t) (ngx_current_msec - sn->owner_checked)
           < (ngx_msec_int_t) max_age)
    {
        ngx_memcpy(owner, sn->owner, sn->owner_len);
        *len = sn->owner_len;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


void
ngx_http_mcp_session_set_owner(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_str_t *owner)
{
    ngx_http_mcp_session_ctx_t   *ctx;
    ngx_http_mcp_session_node_t  *sn;

    /* NULL forgets it: the owner turned out to be gone */

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_mcp_session_locate(ctx, id);

    if (sn) {
        if (owner == NULL || owner->len > NGX_HTTP_MCP_OWNER_LEN) {
            sn->owner_len = 0;

        } else {
            ngx_memcpy(sn->owner, owner->data, owner->len);
            sn->owner_len = (u_char) owner->len;
            sn->owner_checked = ngx_current_msec;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


ngx_int_t
ngx_http_mcp_session_register_turn(ngx_shm_zone_t *shm_zone,
    ngx_msec_t within)
{
    ngx_atomic_uint_t            last;
    ngx_http_mcp_session_ctx_t  *ctx;

    /*
     * After an outage every worker of the host reconnects; one of them
     * registering all the sessions of the zone is enough.
     */

    ctx = shm_zone->data;
    last = ctx->sh->registered;

    if (last != 0
        && (ngx_msec_int_t) (ngx_current_msec - (ngx_msec_t) last)
           < (ngx_msec_int_t) within)
    {
        return NGX_DECLINED;
    }

    return ngx_atomic_cmp_set(&ctx->sh->registered, last,
                              (ngx_atomic_uint_t) ngx_current_msec | 1)
           ? NGX_OK : NGX_DECLINED;
}


static ngx_uint_t
ngx_http_mcp_session_count_client(ngx_http_mcp_session_ctx_t *ctx,
    ngx_http_mcp_session_info_t *info)
{
    ngx_uint_t                    n;
    ngx_queue_t                  *q;
    ngx_http_mcp_session_node_t  *sn;

    /*
     * A walk under the lock, on session creation only: a zone holds
     * thousands of sessions, and counting them is microseconds.
     */

    n = 0;

    for (q = ngx_queue_head(&ctx->sh->queue);
         q != ngx_queue_sentinel(&ctx->sh->queue);
         q = ngx_queue_next(q))
    {
        sn = ngx_queue_data(q, ngx_http_mcp_session_node_t, queue);

        if (sn->client_len == info->client_len
            && ngx_memcmp(sn->client, info->client, info->client_len) == 0
            && !ngx_http_mcp_session_idle(ctx, sn))
        {
            n++;
        }
    }

    return n;
}


ngx_atomic_uint_t
ngx_http_mcp_session_evicted(ngx_shm_zone_t *shm_zone)
{
    ngx_http_mcp_session_ctx_t  *ctx;

    ctx = shm_zone->data;

    return ctx->sh->evicted;
}
