
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_mcp_module.h"


/*
 * mcp_limit_req: a leaky bucket per key in shared memory, as limit_req
 * keeps it, but paid per JSON-RPC request instead of per HTTP request:
 * a batch pays for each of its requests, and the key is evaluated for
 * each of them, so it can name the principal, the method and the tool.
 * A POST is taken whole or refused whole: nothing of a refused batch
 * is dispatched.
 */


#define NGX_HTTP_MCP_LIMIT_KEY_MAX  65535

/* a bucket that has been empty this long may be reused */
#define NGX_HTTP_MCP_LIMIT_IDLE     60000


typedef struct {
    u_char                        color;
    u_char                        dummy;
    u_short                       len;
    ngx_queue_t                   queue;
    ngx_msec_t                    last;
    ngx_uint_t                    excess;   /* in 1/1000 requests */
    u_char                        data[1];
} ngx_http_mcp_limit_node_t;


typedef struct {
    ngx_rbtree_t                  rbtree;
    ngx_rbtree_node_t             sentinel;
    ngx_queue_t                   queue;
    ngx_atomic_t                  rejected;
    ngx_atomic_t                  delayed;
} ngx_http_mcp_limit_shctx_t;


struct ngx_http_mcp_limit_zone_s {
    ngx_http_mcp_limit_shctx_t   *sh;
    ngx_slab_pool_t              *shpool;
    ngx_uint_t                    rate;     /* 1/1000 requests a second */
    ngx_http_complex_value_t      key;
    ngx_shm_zone_t               *shm_zone;
};


typedef struct {
    ngx_shm_zone_t               *shm_zone;
    ngx_uint_t                    burst;    /* in 1/1000 requests */
    ngx_uint_t                    delay;    /* in 1/1000 requests */
    ngx_array_t                  *methods;  /* ngx_str_t, NULL: all */
    ngx_array_t                  *tools;    /* ngx_str_t, NULL: all */
} ngx_http_mcp_limit_t;


/* one key of one limit, and how many requests of the POST it counts */
typedef struct {
    ngx_http_mcp_limit_t         *limit;
    ngx_str_t                     key;
    uint32_t                      hash;
    ngx_uint_t                    n;
    ngx_uint_t                    message;  /* the last one counted */
    ngx_uint_t                    excess;
    unsigned                      over:1;   /* over the burst */
    unsigned                      waits:1;  /* past the delay= */
} ngx_http_mcp_limit_hit_t;


static ngx_int_t ngx_http_mcp_limit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_mcp_limit_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_mcp_limit_node_t *ngx_http_mcp_limit_lookup(
    ngx_http_mcp_limit_zone_t *zone, ngx_str_t *key, uint32_t hash);
static ngx_uint_t ngx_http_mcp_limit_excess(ngx_http_mcp_limit_zone_t *zone,
    ngx_http_mcp_limit_node_t *lr, ngx_uint_t n, ngx_msec_t now);
static ngx_int_t ngx_http_mcp_limit_account(ngx_http_request_t *r,
    ngx_http_mcp_limit_hit_t *hit, ngx_msec_t now);
static void ngx_http_mcp_limit_expire(ngx_http_mcp_limit_zone_t *zone,
    ngx_uint_t n, ngx_msec_t now);
static ngx_int_t ngx_http_mcp_limit_hits(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, ngx_array_t *limits, ngx_array_t *hits);
static ngx_int_t ngx_http_mcp_limit_applies(ngx_http_mcp_limit_t *limit,
    ngx_str_t *method, ngx_str_t *tool);
static char *ngx_http_mcp_limit_list(ngx_conf_t *cf, ngx_str_t *value,
    size_t skip, ngx_array_t **list);
static ngx_msec_t ngx_http_mcp_limit_wait(ngx_http_mcp_limit_zone_t *zone,
    ngx_uint_t excess, ngx_uint_t allowed);


static ngx_str_t  ngx_http_mcp_limit_status_names[] = {
    ngx_null_string,
    ngx_string("PASSED"),
    ngx_string("DELAYED"),
    ngx_string("REJECTED"),
    ngx_string("DELAYED_DRY_RUN"),
    ngx_string("REJECTED_DRY_RUN")
};


/* the tag of our zones: not the module's, which names session zones */
static ngx_uint_t  ngx_http_mcp_limit_zone_tag;


char *
ngx_http_mcp_limit_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mcp_main_conf_t *mmcf = conf;

    u_char                            *p;
    size_t                             len;
    ssize_t                            size;
    ngx_str_t                         *value, name;
    ngx_int_t                          rate, scale;
    ngx_uint_t                         i;
    ngx_shm_zone_t                    *shm_zone, **zp;
    ngx_http_mcp_limit_zone_t         *zone;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_limit_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &zone->key;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    size = 0;
    rate = 1;
    scale = 1;
    name.len = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            if (ngx_http_mcp_conf_zone(cf, &value[i], &name, &size)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {

            len = value[i].len;
            p = value[i].data + len - 3;

            if (len > 8 && ngx_strncmp(p, "r/s", 3) == 0) {
                scale = 1;
                len -= 3;

            } else if (len > 8 && ngx_strncmp(p, "r/m", 3) == 0) {
                scale = 60;
                len -= 3;
            }

            rate = ngx_atoi(value[i].data + 5, len - 5);

            if (rate <= 0 || len == value[i].len) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid rate \"%V\": it must be like "
                                   "\"rate=10r/s\" or \"rate=30r/m\"",
                                   &value[i]);
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

    zone->rate = rate * 1000 / scale;

    if (zone->rate == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "the rate is too low");
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_mcp_limit_zone_tag);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V \"%V\" is already bound to key \"%V\"",
                           &cmd->name, &name,
                           &((ngx_http_mcp_limit_zone_t *) shm_zone->data)
                               ->key.value);
        return NGX_CONF_ERROR;
    }

    zone->shm_zone = shm_zone;

    shm_zone->init = ngx_http_mcp_limit_init_zone;
    shm_zone->data = zone;

    if (mmcf->limit_zones == NULL) {
        mmcf->limit_zones = ngx_array_create(cf->pool, 2,
                                             sizeof(ngx_shm_zone_t *));
        if (mmcf->limit_zones == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    zp = ngx_array_push(mmcf->limit_zones);
    if (zp == NULL) {
        return NGX_CONF_ERROR;
    }

    *zp = shm_zone;

    return NGX_CONF_OK;
}


char *
ngx_http_mcp_limit_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    ngx_int_t                  burst, delay;
    ngx_str_t                 *value, s;
    ngx_uint_t                 i;
    ngx_shm_zone_t            *shm_zone, **zp;
    ngx_http_mcp_limit_t      *limit, *limits;
    ngx_http_mcp_main_conf_t  *mmcf;

    value = cf->args->elts;

    shm_zone = NULL;
    burst = 0;
    delay = 0;

    if (mlcf->limits == NGX_CONF_UNSET_PTR) {
        mlcf->limits = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_mcp_limit_t));
        if (mlcf->limits == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    limit = ngx_array_push(mlcf->limits);
    if (limit == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(limit, sizeof(ngx_http_mcp_limit_t));

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            s.len = value[i].len - 5;
            s.data = value[i].data + 5;

            shm_zone = ngx_shared_memory_add(cf, &s, 0,
                                             &ngx_http_mcp_limit_zone_tag);
            if (shm_zone == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {

            burst = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (burst < 0 || burst > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst value \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "delay=", 6) == 0) {

            delay = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (delay <= 0 || delay > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid delay value \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "nodelay") == 0) {
            delay = 1000001;
            continue;
        }

        if (ngx_strncmp(value[i].data, "method=", 7) == 0) {

            if (limit->methods != NULL) {
                return "has a duplicate \"method=\"";
            }

            if (ngx_http_mcp_limit_list(cf, &value[i], 7, &limit->methods)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "tool=", 5) == 0) {

            if (limit->tools != NULL) {
                return "has a duplicate \"tool=\"";
            }

            if (ngx_http_mcp_limit_list(cf, &value[i], 5, &limit->tools)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    limits = mlcf->limits->elts;

    for (i = 0; i + 1 < mlcf->limits->nelts; i++) {
        if (limits[i].shm_zone == shm_zone
            && limits[i].methods == NULL && limit->methods == NULL
            && limits[i].tools == NULL && limit->tools == NULL)
        {
            return "is duplicate";
        }
    }

    limit->shm_zone = shm_zone;
    limit->burst = burst * 1000;
    limit->delay = (delay > 1000000) ? NGX_MAX_INT_T_VALUE / 1000 * 1000
                                     : (ngx_uint_t) delay * 1000;

    /* the zone may be declared further down: checked at the end */

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

    if (mmcf->limit_used == NULL) {
        mmcf->limit_used = ngx_array_create(cf->pool, 2,
                                            sizeof(ngx_shm_zone_t *));
        if (mmcf->limit_used == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    zp = ngx_array_push(mmcf->limit_used);
    if (zp == NULL) {
        return NGX_CONF_ERROR;
    }

    *zp = shm_zone;

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_limit_list(ngx_conf_t *cf, ngx_str_t *value, size_t skip,
    ngx_array_t **list)
{
    u_char     *p, *last, *comma;
    ngx_str_t  *name;

    /* "method=tools/call,tools/list": names separated by commas */

    *list = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
    if (*list == NULL) {
        return NGX_CONF_ERROR;
    }

    p = value->data + skip;
    last = value->data + value->len;

    for ( ;; ) {
        comma = ngx_strlchr(p, last, ',');

        if (comma == NULL) {
            comma = last;
        }

        if (comma == p) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\": an empty name", value);
            return NGX_CONF_ERROR;
        }

        name = ngx_array_push(*list);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        name->data = p;
        name->len = comma - p;

        if (comma == last) {
            return NGX_CONF_OK;
        }

        p = comma + 1;
    }
}


char *
ngx_http_mcp_limit_conf_check(ngx_conf_t *cf, ngx_http_mcp_main_conf_t *mmcf)
{
    ngx_uint_t       i;
    ngx_shm_zone_t  **zp;

    if (mmcf->limit_used == NULL) {
        return NGX_CONF_OK;
    }

    zp = mmcf->limit_used->elts;

    for (i = 0; i < mmcf->limit_used->nelts; i++) {
        if (zp[i]->data == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown mcp_limit_req_zone \"%V\"",
                               &zp[i]->shm.name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mcp_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_mcp_limit_zone_t  *ozone = data;

    size_t                      len;
    ngx_http_mcp_limit_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        /* a reload: the buckets stay, if they count the same thing */

        if (zone->key.value.len != ozone->key.value.len
            || ngx_strncmp(zone->key.value.data, ozone->key.value.data,
                           zone->key.value.len)
               != 0)
        {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "mcp_limit_req_zone \"%V\" uses the \"%V\" key "
                          "while previously it used the \"%V\" key",
                          &shm_zone->shm.name, &zone->key.value,
                          &ozone->key.value);
            return NGX_ERROR;
        }

        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;

        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_alloc(zone->shpool,
                              sizeof(ngx_http_mcp_limit_shctx_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_http_mcp_limit_rbtree_insert);
    ngx_queue_init(&zone->sh->queue);

    len = sizeof(" in mcp_limit_req_zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in mcp_limit_req_zone \"%V\"%Z",
                &shm_zone->shm.name);

    zone->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_mcp_limit_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t          **p;
    ngx_http_mcp_limit_node_t   *lrn, *lrnt;

    /* by hash, then by key: lookups walk the same order */

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            lrn = (ngx_http_mcp_limit_node_t *) &node->color;
            lrnt = (ngx_http_mcp_limit_node_t *) &temp->color;

            p = (ngx_memn2cmp(lrn->data, lrnt->data, lrn->len, lrnt->len) < 0)
                ? &temp->left : &temp->right;
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


static ngx_http_mcp_limit_node_t *
ngx_http_mcp_limit_lookup(ngx_http_mcp_limit_zone_t *zone, ngx_str_t *key,
    uint32_t hash)
{
    ngx_int_t                   rc;
    ngx_rbtree_node_t          *node, *sentinel;
    ngx_http_mcp_limit_node_t  *lr;

    node = zone->sh->rbtree.root;
    sentinel = zone->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        lr = (ngx_http_mcp_limit_node_t *) &node->color;

        rc = ngx_memn2cmp(key->data, lr->data, key->len, (size_t) lr->len);

        if (rc == 0) {
            return lr;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static ngx_uint_t
ngx_http_mcp_limit_excess(ngx_http_mcp_limit_zone_t *zone,
    ngx_http_mcp_limit_node_t *lr, ngx_uint_t n, ngx_msec_t now)
{
    ngx_int_t       excess;
    ngx_msec_int_t  ms;

    /*
     * The bucket leaks at the zone's rate since its last request; each
     * request pours in one (1000 milli-requests).  The first request of
     * a new bucket is free, as a request after a long pause is.
     */

    if (lr == NULL) {
        return (n > 0) ? (n - 1) * 1000 : 0;
    }

    ms = (ngx_msec_int_t) (now - lr->last);

    if (ms < -60000) {
        ms = 1;

    } else if (ms < 0) {
        ms = 0;
    }

    excess = (ngx_int_t) lr->excess - (ngx_int_t) (zone->rate * ms / 1000)
             + 1000;

    if (excess < 0) {
        excess = 0;
    }

    return (ngx_uint_t) excess + ((n > 0) ? (n - 1) * 1000 : 0);
}


static ngx_msec_t
ngx_http_mcp_limit_wait(ngx_http_mcp_limit_zone_t *zone, ngx_uint_t excess,
    ngx_uint_t allowed)
{
    /* how long the bucket takes to leak down to what is allowed */

    if (excess <= allowed) {
        return 0;
    }

    return (ngx_msec_t) ((excess - allowed) * 1000 / zone->rate);
}


static void
ngx_http_mcp_limit_expire(ngx_http_mcp_limit_zone_t *zone, ngx_uint_t n,
    ngx_msec_t now)
{
    ngx_int_t                   excess;
    ngx_queue_t                *q;
    ngx_msec_int_t              ms;
    ngx_rbtree_node_t          *node;
    ngx_http_mcp_limit_node_t  *lr;

    /*
     * n == 0 frees the least recently used bucket whatever it holds
     * (the zone is full), then up to two idle ones, as each new bucket
     * does.
     */

    while (n < 3) {

        if (ngx_queue_empty(&zone->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&zone->sh->queue);

        lr = ngx_queue_data(q, ngx_http_mcp_limit_node_t, queue);

        if (n++ != 0) {
            ms = (ngx_msec_int_t) (now - lr->last);
            ms = ngx_abs(ms);

            if (ms < NGX_HTTP_MCP_LIMIT_IDLE) {
                return;
            }

            excess = (ngx_int_t) lr->excess
                     - (ngx_int_t) (zone->rate * ms / 1000);

            if (excess > 0) {
                return;
            }
        }

        ngx_queue_remove(q);

        node = (ngx_rbtree_node_t *)
                   ((u_char *) lr - offsetof(ngx_rbtree_node_t, color));

        ngx_rbtree_delete(&zone->sh->rbtree, node);

        ngx_slab_free_locked(zone->shpool, node);
    }
}


static ngx_int_t
ngx_http_mcp_limit_account(ngx_http_request_t *r,
    ngx_http_mcp_limit_hit_t *hit, ngx_msec_t now)
{
    size_t                      size;
    ngx_rbtree_node_t          *node;
    ngx_http_mcp_limit_node_t  *lr;
    ngx_http_mcp_limit_zone_t  *zone;

    zone = hit->limit->shm_zone->data;

    ngx_shmtx_lock(&zone->shpool->mutex);

    lr = ngx_http_mcp_limit_lookup(zone, &hit->key, hit->hash);

    if (lr != NULL) {
        hit->excess = ngx_http_mcp_limit_excess(zone, lr, hit->n, now);

        lr->excess = hit->excess;
        lr->last = now;

        ngx_queue_remove(&lr->queue);
        ngx_queue_insert_head(&zone->sh->queue, &lr->queue);

        ngx_shmtx_unlock(&zone->shpool->mutex);

        return NGX_OK;
    }

    ngx_http_mcp_limit_expire(zone, 1, now);

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_mcp_limit_node_t, data)
           + hit->key.len;

    node = ngx_slab_alloc_locked(zone->shpool, size);

    if (node == NULL) {
        ngx_http_mcp_limit_expire(zone, 0, now);

        node = ngx_slab_alloc_locked(zone->shpool, size);

        if (node == NULL) {
            ngx_shmtx_unlock(&zone->shpool->mutex);

            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "could not allocate node%s",
                          zone->shpool->log_ctx);
            return NGX_ERROR;
        }
    }

    node->key = hit->hash;

    lr = (ngx_http_mcp_limit_node_t *) &node->color;

    lr->len = (u_short) hit->key.len;
    lr->excess = ngx_http_mcp_limit_excess(zone, NULL, hit->n, now);
    lr->last = now;

    ngx_memcpy(lr->data, hit->key.data, hit->key.len);

    ngx_rbtree_insert(&zone->sh->rbtree, node);
    ngx_queue_insert_head(&zone->sh->queue, &lr->queue);

    hit->excess = lr->excess;

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_limit_check(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    ngx_msec_t *delay, ngx_msec_t *retry)
{
    ngx_uint_t                  i, level, dry_run, rejected, never;
    ngx_msec_t                  now, wait, longest;
    ngx_array_t                 hits;
    ngx_http_mcp_limit_hit_t   *hit;
    ngx_http_mcp_limit_zone_t  *zone;
    ngx_http_mcp_limit_node_t  *lr;
    ngx_http_mcp_loc_conf_t    *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    *delay = 0;
    *retry = 0;

    if (mlcf->limits == NULL) {
        return NGX_OK;
    }

    if (ngx_array_init(&hits, r->pool, 4, sizeof(ngx_http_mcp_limit_hit_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_limit_hits(r, ctx, mlcf->limits, &hits) != NGX_OK) {
        return NGX_ERROR;
    }

    if (hits.nelts == 0) {
        return NGX_OK;
    }

    ctx->limit_status = NGX_HTTP_MCP_LIMIT_PASSED;

    dry_run = mlcf->limit_dry_run;
    now = ngx_current_msec;
    hit = hits.elts;

    /* first, would every bucket take its requests? */

    rejected = 0;
    never = 0;
    longest = 0;

    for (i = 0; i < hits.nelts; i++) {
        zone = hit[i].limit->shm_zone->data;

        ngx_shmtx_lock(&zone->shpool->mutex);

        lr = ngx_http_mcp_limit_lookup(zone, &hit[i].key, hit[i].hash);
        hit[i].excess = ngx_http_mcp_limit_excess(zone, lr, hit[i].n, now);

        ngx_shmtx_unlock(&zone->shpool->mutex);

        if (hit[i].excess <= hit[i].limit->burst) {
            continue;
        }

        hit[i].over = 1;
        rejected = 1;

        if ((hit[i].n - 1) * 1000 > hit[i].limit->burst) {
            /* more requests at once than the bucket ever holds */
            never = 1;

        } else {
            wait = ngx_http_mcp_limit_wait(zone, hit[i].excess,
                                           hit[i].limit->burst);
            longest = ngx_max(longest, wait);
        }

        (void) ngx_atomic_fetch_add(&zone->sh->rejected, hit[i].n);

        ngx_log_error(mlcf->limit_log_level, r->connection->log, 0,
                      "mcp: limiting requests%s, excess: %ui.%03ui by "
                      "zone \"%V\", %ui request%s of client \"%V\"",
                      dry_run ? ", dry run" : "",
                      hit[i].excess / 1000, hit[i].excess % 1000,
                      &hit[i].limit->shm_zone->shm.name, hit[i].n,
                      hit[i].n == 1 ? "" : "s", &ctx->client);

        if (ctx->limit_zone.len == 0) {
            ctx->limit_zone = hit[i].limit->shm_zone->shm.name;
        }
    }

    if (rejected) {
        if (!dry_run) {
            ctx->limit_status = NGX_HTTP_MCP_LIMIT_REJECTED;

            /* 0: waiting does not help, the batch is too large */
            *retry = never ? 0 : ngx_max(longest, 1);

            return NGX_BUSY;
        }

        ctx->limit_status = NGX_HTTP_MCP_LIMIT_REJECTED_DRY_RUN;
    }

    /* then every bucket takes them, and the slowest sets the pace */

    longest = 0;

    for (i = 0; i < hits.nelts; i++) {
        if (hit[i].over) {
            continue;
        }

        if (ngx_http_mcp_limit_account(r, &hit[i], now) != NGX_OK) {
            if (dry_run) {
                continue;
            }

            ctx->limit_status = NGX_HTTP_MCP_LIMIT_REJECTED;
            ctx->limit_zone = hit[i].limit->shm_zone->shm.name;
            *retry = 1000;
            return NGX_BUSY;
        }

        zone = hit[i].limit->shm_zone->data;

        wait = ngx_http_mcp_limit_wait(zone, hit[i].excess,
                                       hit[i].limit->delay);
        longest = ngx_max(longest, wait);

        hit[i].waits = (wait > 0);
    }

    if (longest == 0) {
        return NGX_OK;
    }

    level = (mlcf->limit_log_level == NGX_LOG_INFO)
            ? NGX_LOG_INFO : mlcf->limit_log_level + 1;

    ngx_log_error(level, r->connection->log, 0,
                  "mcp: delaying requests%s by %M ms of client \"%V\"",
                  dry_run ? ", dry run" : "", longest, &ctx->client);

    if (dry_run) {
        if (ctx->limit_status == NGX_HTTP_MCP_LIMIT_PASSED) {
            ctx->limit_status = NGX_HTTP_MCP_LIMIT_DELAYED_DRY_RUN;
        }

        return NGX_OK;
    }

    for (i = 0; i < hits.nelts; i++) {
        if (hit[i].waits) {
            zone = hit[i].limit->shm_zone->data;
            (void) ngx_atomic_fetch_add(&zone->sh->delayed, hit[i].n);
        }
    }

    ctx->limit_status = NGX_HTTP_MCP_LIMIT_DELAYED;
    *delay = longest;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_limit_hits(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    ngx_array_t *limits, ngx_array_t *hits)
{
    json_t                     *json, *name;
    uint32_t                    hash;
    ngx_int_t                   rc;
    ngx_str_t                   key, method, tool;
    ngx_uint_t                  i, j, k, n;
    ngx_http_mcp_msg_t          msg;
    ngx_http_mcp_tool_t        *found;
    ngx_http_mcp_limit_t       *limit;
    ngx_http_mcp_limit_hit_t   *hit;
    ngx_http_mcp_loc_conf_t    *mlcf;
    ngx_http_mcp_limit_zone_t  *zone;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    /* the variables name the message at hand while its keys are made */

    method = ctx->method;
    tool = ctx->tool;

    n = json_is_array(ctx->body) ? json_array_size(ctx->body) : 1;
    limit = limits->elts;

    for (i = 0; i < n; i++) {
        json = json_is_array(ctx->body) ? json_array_get(ctx->body, i)
                                        : ctx->body;

        ngx_http_mcp_msg_classify(json, &msg);

        if (msg.kind != NGX_HTTP_MCP_MSG_REQUEST) {
            continue;
        }

        ctx->method = msg.method;
        ngx_str_null(&ctx->tool);

        /* a tool is one of the location's, by its configured name */

        name = ngx_http_mcp_method_is(&msg, "tools/call")
               && json_is_object(msg.params)
               ? json_object_get(msg.params, "name") : NULL;

        found = ngx_http_mcp_tool_named(mlcf->tools, name);

        if (found != NULL) {
            ctx->tool = found->name;
        }

        for (j = 0; j < limits->nelts; j++) {

            if (!ngx_http_mcp_limit_applies(&limit[j], &ctx->method,
                                            &ctx->tool))
            {
                continue;
            }

            zone = limit[j].shm_zone->data;

            if (ngx_http_complex_value(r, &zone->key, &key) != NGX_OK) {
                rc = NGX_ERROR;
                goto done;
            }

            /* as with limit_req, an empty key is not limited */

            if (key.len == 0) {
                continue;
            }

            if (key.len > NGX_HTTP_MCP_LIMIT_KEY_MAX) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "the value of the \"%V\" key "
                              "is more than 65535 bytes: \"%*s...\"",
                              &zone->key.value, (size_t) 16, key.data);
                rc = NGX_ERROR;
                goto done;
            }

            hash = ngx_crc32_short(key.data, key.len);

            hit = hits->elts;

            for (k = 0; k < hits->nelts; k++) {
                if (hit[k].limit->shm_zone == limit[j].shm_zone
                    && hit[k].hash == hash
                    && hit[k].key.len == key.len
                    && ngx_memcmp(hit[k].key.data, key.data, key.len) == 0)
                {
                    break;
                }
            }

            if (k < hits->nelts) {
                /* the strictest of two limits on one bucket rules */

                if (limit[j].burst < hit[k].limit->burst) {
                    hit[k].limit = &limit[j];
                }

                /* a request pays a bucket once, whatever limits name it */

                if (hit[k].message != i) {
                    hit[k].message = i;
                    hit[k].n++;
                }

                continue;
            }

            hit = ngx_array_push(hits);
            if (hit == NULL) {
                rc = NGX_ERROR;
                goto done;
            }

            ngx_memzero(hit, sizeof(ngx_http_mcp_limit_hit_t));

            hit->limit = &limit[j];
            hit->key = key;
            hit->hash = hash;
            hit->n = 1;
            hit->message = i;
        }
    }

    rc = NGX_OK;

done:

    ctx->method = method;
    ctx->tool = tool;

    return rc;
}


static ngx_int_t
ngx_http_mcp_limit_applies(ngx_http_mcp_limit_t *limit, ngx_str_t *method,
    ngx_str_t *tool)
{
    static ngx_str_t  tools_call = ngx_string("tools/call");

    if (limit->methods && !ngx_http_mcp_str_listed(limit->methods, method))
    {
        return 0;
    }

    if (limit->tools == NULL) {
        return 1;
    }

    /* tool= limits calls of those tools only */

    if (method->len != tools_call.len
        || ngx_strncmp(method->data, tools_call.data, tools_call.len) != 0)
    {
        return 0;
    }

    return tool->len && ngx_http_mcp_str_listed(limit->tools, tool);
}


ngx_str_t *
ngx_http_mcp_limit_status_name(ngx_uint_t status)
{
    if (status == 0
        || status >= sizeof(ngx_http_mcp_limit_status_names)
                     / sizeof(ngx_str_t))
    {
        return NULL;
    }

    return &ngx_http_mcp_limit_status_names[status];
}


void
ngx_http_mcp_limit_counters(ngx_shm_zone_t *shm_zone,
    ngx_atomic_uint_t *rejected, ngx_atomic_uint_t *delayed)
{
    ngx_http_mcp_limit_zone_t  *zone;

    zone = shm_zone->data;

    *rejected = zone->sh ? zone->sh->rejected : 0;
    *delayed = zone->sh ? zone->sh->delayed : 0;
}
