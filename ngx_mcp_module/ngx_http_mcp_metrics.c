
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_mcp_module.h"


/*
 * mcp_metrics: Prometheus text exposition (0.0.4) of counters kept in a
 * shared memory zone of their own, so that every worker adds to the same
 * ones and a scrape answered by any worker sees them all; they live as
 * long as the zone, across reloads.  Label values come from the
 * configuration (tools, limit zones) or from fixed lists (methods,
 * outcomes, reasons), never from what a client sends, so the number of
 * series is bounded.
 */


#define NGX_HTTP_MCP_METRICS_BUCKETS  14     /* the last one is +Inf */
#define NGX_HTTP_MCP_METRICS_SLOTS    NGX_MAX_PROCESSES

/* the counters, and the rows of about 2000 tools */
#define NGX_HTTP_MCP_METRICS_SIZE     (1024 * 1024)

/* a worker's Redis connections, as it last reported them */
#define NGX_HTTP_MCP_REDIS_UNKNOWN    0
#define NGX_HTTP_MCP_REDIS_DOWN       1
#define NGX_HTTP_MCP_REDIS_UP         2


typedef struct ngx_http_mcp_metrics_tool_s  ngx_http_mcp_metrics_tool_t;

struct ngx_http_mcp_metrics_tool_s {
    ngx_http_mcp_metrics_tool_t  *next;
    ngx_atomic_t                  outcomes[NGX_HTTP_MCP_OUTCOMES];
    ngx_atomic_t                  buckets[NGX_HTTP_MCP_METRICS_BUCKETS];
    ngx_atomic_t                  sum;          /* milliseconds */
    size_t                        len;
    u_char                        name[1];
};


typedef struct {
    ngx_atomic_t                  requests[NGX_HTTP_MCP_METHODS];
    ngx_atomic_t                  auth[NGX_HTTP_MCP_AUTH_REASONS];
    ngx_atomic_t                  reconnects;
    ngx_atomic_t                  streams[NGX_HTTP_MCP_METRICS_SLOTS];
    ngx_atomic_t                  redis[NGX_HTTP_MCP_METRICS_SLOTS];
    ngx_http_mcp_metrics_tool_t  *tools;        /* by name, never freed */
} ngx_http_mcp_metrics_sh_t;


static ngx_int_t ngx_http_mcp_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_mcp_metrics_tool_t *ngx_http_mcp_metrics_tool_row(
    ngx_slab_pool_t *shpool, ngx_http_mcp_metrics_sh_t *sh, ngx_str_t *name);
static ngx_int_t ngx_http_mcp_metrics_escape(ngx_str_t *value,
    ngx_str_t *out, ngx_pool_t *pool);
static ngx_chain_t *ngx_http_mcp_metrics_text(ngx_http_request_t *r,
    ngx_http_mcp_metrics_sh_t *sh);


/* the methods of MCP counted by name; any other is "other" */
static ngx_str_t  ngx_http_mcp_metrics_methods[] = {
    ngx_string("initialize"),
    ngx_string("ping"),
    ngx_string("tools/list"),
    ngx_string("tools/call"),
    ngx_string("resources/list"),
    ngx_string("resources/templates/list"),
    ngx_string("resources/read"),
    ngx_string("resources/subscribe"),
    ngx_string("resources/unsubscribe"),
    ngx_string("prompts/list"),
    ngx_string("prompts/get"),
    ngx_string("completion/complete"),
    ngx_string("logging/setLevel"),
    ngx_string("notifications/initialized"),
    ngx_string("notifications/cancelled"),
    ngx_string("notifications/progress"),
    ngx_string("notifications/roots/list_changed"),
    ngx_string("other")
};


static ngx_str_t  ngx_http_mcp_metrics_outcomes[] = {
    ngx_string("ok"),
    ngx_string("error"),
    ngx_string("timeout"),
    ngx_string("failed"),
    ngx_string("denied"),
    ngx_string("invalid")
};


static ngx_str_t  ngx_http_mcp_metrics_reasons[] = {
    ngx_string("missing"),
    ngx_string("invalid_token"),
    ngx_string("invalid_request"),
    ngx_string("insufficient_scope"),
    ngx_string("origin")
};


/* bucket bounds in milliseconds, and as the "le" label has them */
static ngx_msec_t  ngx_http_mcp_metrics_bounds[] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000
};

static char  *ngx_http_mcp_metrics_le[] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
    "5", "10", "30", "60", "+Inf"
};


/* the tag of the zone: not the module's, which names session zones */
static ngx_uint_t  ngx_http_mcp_metrics_tag;

/* this worker's view: set in init_process, for the cycle it serves */
static ngx_http_mcp_metrics_sh_t     *ngx_http_mcp_metrics_sh;
static ngx_http_mcp_metrics_tool_t  **ngx_http_mcp_metrics_rows;
static ngx_uint_t                     ngx_http_mcp_metrics_nrows;


ngx_int_t
ngx_http_mcp_metrics_zone(ngx_conf_t *cf, ngx_http_mcp_main_conf_t *mmcf)
{
    static ngx_str_t  name = ngx_string("ngx_http_mcp_metrics");

    /*
     * A zone of its own, of one size whatever the configuration, so that
     * a reload always finds the counters of the workers before it.
     */

    mmcf->metrics_zone = ngx_shared_memory_add(cf, &name,
                                               NGX_HTTP_MCP_METRICS_SIZE,
                                               &ngx_http_mcp_metrics_tag);
    if (mmcf->metrics_zone == NULL) {
        return NGX_ERROR;
    }

    mmcf->metrics_zone->init = ngx_http_mcp_metrics_init_zone;
    mmcf->metrics_zone->data = mmcf;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data || shm_zone->shm.exists) {
        /* a reload, or a zone already made: shpool->data is the block */
        return NGX_OK;
    }

    shpool->data = ngx_slab_calloc(shpool, sizeof(ngx_http_mcp_metrics_sh_t));
    if (shpool->data == NULL) {
        return NGX_ERROR;
    }

    shpool->log_nomem = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_metrics_init_process(ngx_cycle_t *cycle,
    ngx_http_mcp_main_conf_t *mmcf)
{
    ngx_str_t                  *names;
    ngx_uint_t                  i;
    ngx_slab_pool_t            *shpool;
    ngx_http_mcp_metrics_sh_t  *sh;

    shpool = (ngx_slab_pool_t *) mmcf->metrics_zone->shm.addr;
    sh = shpool->data;

    ngx_http_mcp_metrics_sh = sh;

    /* the slot may have been a crashed worker's: its figures are gone */

    sh->streams[ngx_process_slot] = 0;
    sh->redis[ngx_process_slot] = mmcf->redis ? NGX_HTTP_MCP_REDIS_DOWN
                                              : NGX_HTTP_MCP_REDIS_UNKNOWN;

    if (mmcf->tool_names == NULL) {
        return NGX_OK;
    }

    ngx_http_mcp_metrics_nrows = mmcf->tool_names->nelts;

    /*
     * Not from the cycle's pool: with master_process off a reload keeps
     * the process, and the rows, and frees that pool.
     */

    ngx_http_mcp_metrics_rows = ngx_calloc(ngx_http_mcp_metrics_nrows
                                       * sizeof(ngx_http_mcp_metrics_tool_t *),
                                       cycle->log);
    if (ngx_http_mcp_metrics_rows == NULL) {
        return NGX_ERROR;
    }

    names = mmcf->tool_names->elts;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < ngx_http_mcp_metrics_nrows; i++) {
        ngx_http_mcp_metrics_rows[i] =
                      ngx_http_mcp_metrics_tool_row(shpool, sh, &names[i]);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    for (i = 0; i < ngx_http_mcp_metrics_nrows; i++) {
        if (ngx_http_mcp_metrics_rows[i] == NULL) {
            ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                          "mcp: no room for the metrics of tool \"%V\": "
                          "not counted", &names[i]);
        }
    }

    return NGX_OK;
}


static ngx_http_mcp_metrics_tool_t *
ngx_http_mcp_metrics_tool_row(ngx_slab_pool_t *shpool,
    ngx_http_mcp_metrics_sh_t *sh, ngx_str_t *name)
{
    ngx_http_mcp_metrics_tool_t  *row;

    /*
     * A tool's row is found by name, so that the workers of a reload
     * count on in the rows of the workers before them.
     */

    for (row = sh->tools; row; row = row->next) {
        if (row->len == name->len
            && ngx_strncmp(row->name, name->data, name->len) == 0)
        {
            return row;
        }
    }

    row = ngx_slab_calloc_locked(shpool,
                                 offsetof(ngx_http_mcp_metrics_tool_t, name)
                                 + name->len);
    if (row == NULL) {
        return NULL;
    }

    row->len = name->len;
    ngx_memcpy(row->name, name->data, name->len);

    row->next = sh->tools;
    sh->tools = row;

    return row;
}


void
ngx_http_mcp_metrics_exit_process(void)
{
    if (ngx_http_mcp_metrics_sh) {
        ngx_http_mcp_metrics_sh->streams[ngx_process_slot] = 0;
        ngx_http_mcp_metrics_sh->redis[ngx_process_slot] =
                                                 NGX_HTTP_MCP_REDIS_UNKNOWN;
        ngx_http_mcp_metrics_sh = NULL;
    }
}


void
ngx_http_mcp_metrics_request(ngx_str_t *method)
{
    ngx_uint_t  i;

    if (ngx_http_mcp_metrics_sh == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_MCP_METHODS - 1; i++) {
        if (ngx_http_mcp_metrics_methods[i].len == method->len
            && ngx_strncmp(ngx_http_mcp_metrics_methods[i].data,
                           method->data, method->len)
               == 0)
        {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&ngx_http_mcp_metrics_sh->requests[i], 1);
}


void
ngx_http_mcp_metrics_tool(ngx_http_mcp_tool_t *tool, ngx_uint_t outcome,
    ngx_msec_t ms)
{
    ngx_uint_t                    i;
    ngx_http_mcp_metrics_tool_t  *row;

    if (ngx_http_mcp_metrics_sh == NULL
        || tool->metric >= ngx_http_mcp_metrics_nrows)
    {
        return;
    }

    row = ngx_http_mcp_metrics_rows[tool->metric];

    if (row == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(&row->outcomes[outcome], 1);

    /* calls refused before they reached the backend took no time */

    if (outcome == NGX_HTTP_MCP_OUTCOME_DENIED
        || outcome == NGX_HTTP_MCP_OUTCOME_INVALID)
    {
        return;
    }

    for (i = 0; i < NGX_HTTP_MCP_METRICS_BUCKETS - 1; i++) {
        if (ms <= ngx_http_mcp_metrics_bounds[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&row->buckets[i], 1);
    (void) ngx_atomic_fetch_add(&row->sum, ms);
}


ngx_str_t *
ngx_http_mcp_metrics_outcome(ngx_uint_t outcome)
{
    return &ngx_http_mcp_metrics_outcomes[ngx_min(outcome,
                                                  NGX_HTTP_MCP_OUTCOMES - 1)];
}


void
ngx_http_mcp_metrics_auth(ngx_uint_t reason)
{
    if (ngx_http_mcp_metrics_sh && reason < NGX_HTTP_MCP_AUTH_REASONS) {
        (void) ngx_atomic_fetch_add(&ngx_http_mcp_metrics_sh->auth[reason],
                                    1);
    }
}


void
ngx_http_mcp_metrics_stream(ngx_int_t delta)
{
    if (ngx_http_mcp_metrics_sh) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_mcp_metrics_sh->streams[ngx_process_slot],
                   (ngx_atomic_int_t) delta);
    }
}


void
ngx_http_mcp_metrics_redis(ngx_uint_t up)
{
    if (ngx_http_mcp_metrics_sh) {
        ngx_http_mcp_metrics_sh->redis[ngx_process_slot] =
            up ? NGX_HTTP_MCP_REDIS_UP : NGX_HTTP_MCP_REDIS_DOWN;
    }
}


void
ngx_http_mcp_metrics_reconnect(void)
{
    if (ngx_http_mcp_metrics_sh) {
        (void) ngx_atomic_fetch_add(&ngx_http_mcp_metrics_sh->reconnects, 1);
    }
}


ngx_int_t
ngx_http_mcp_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t     rc;
    ngx_chain_t  *out;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_mcp_metrics_sh == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    out = ngx_http_mcp_metrics_text(r, ngx_http_mcp_metrics_sh);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = out->buf->last - out->buf->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;
    r->headers_out.content_type_lowcase = NULL;

    if (ngx_http_mcp_header_out(r, "Cache-Control", "no-store") == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}


#define ngx_http_mcp_metrics_head(p, name, type, help)                      \
    p = ngx_cpymem(p, "# HELP " name " " help "\n# TYPE " name " " type "\n", \
                   sizeof("# HELP " name " " help "\n# TYPE " name " "       \
                          type "\n") - 1)


static ngx_chain_t *
ngx_http_mcp_metrics_text(ngx_http_request_t *r,
    ngx_http_mcp_metrics_sh_t *sh)
{
    u_char                        *p;
    size_t                         len;
    ngx_str_t                     *names, *labels;
    ngx_buf_t                     *b;
    ngx_uint_t                     i, j, up, down, nzones, nrows, sessions;
    ngx_chain_t                   *out;
    ngx_shm_zone_t               **zones;
    ngx_atomic_uint_t              count, streams, rejected, delayed;
    ngx_http_mcp_metrics_tool_t   *row;
    ngx_http_mcp_main_conf_t      *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    nzones = mmcf->limit_zones ? mmcf->limit_zones->nelts : 0;

    /* the rows this worker resolved, of the tools this configuration has */

    nrows = mmcf->tool_names ? mmcf->tool_names->nelts : 0;
    nrows = ngx_min(nrows, ngx_http_mcp_metrics_nrows);
    zones = nzones ? mmcf->limit_zones->elts : NULL;

    /* room enough: every line is bounded, their number too */

    len = 4096
          + NGX_HTTP_MCP_METHODS * 96
          + nrows
            * (NGX_HTTP_MCP_OUTCOMES + NGX_HTTP_MCP_METRICS_BUCKETS + 2)
            * (192 + NGX_HTTP_MCP_TOOL_NAME_MAX)
          + nrows * 512;

    for (i = 0; i < nzones; i++) {
        len += 2 * (128 + 2 * zones[i]->shm.name.len);
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NULL;
    }

    p = b->last;

    ngx_http_mcp_metrics_head(p, "mcp_requests_total", "counter",
                              "JSON-RPC requests and notifications "
                              "received, by method.");

    for (i = 0; i < NGX_HTTP_MCP_METHODS; i++) {
        p = ngx_sprintf(p, "mcp_requests_total{method=\"%V\"} %uA\n",
                        &ngx_http_mcp_metrics_methods[i], sh->requests[i]);
    }

    names = mmcf->tool_names ? mmcf->tool_names->elts : NULL;

    ngx_http_mcp_metrics_head(p, "mcp_tool_calls_total", "counter",
                              "tools/call requests, by tool and outcome.");

    for (i = 0; i < nrows; i++) {
        row = ngx_http_mcp_metrics_rows[i];

        for (j = 0; row && j < NGX_HTTP_MCP_OUTCOMES; j++) {
            p = ngx_sprintf(p, "mcp_tool_calls_total{tool=\"%V\","
                            "outcome=\"%V\"} %uA\n", &names[i],
                            &ngx_http_mcp_metrics_outcomes[j],
                            row->outcomes[j]);
        }
    }

    ngx_http_mcp_metrics_head(p, "mcp_tool_call_duration_seconds",
                              "histogram",
                              "Time from a tools/call forwarded to its "
                              "backend to its result, by tool.");

    for (i = 0; i < nrows; i++) {
        row = ngx_http_mcp_metrics_rows[i];

        if (row == NULL) {
            continue;
        }

        count = 0;

        for (j = 0; j < NGX_HTTP_MCP_METRICS_BUCKETS; j++) {
            count += row->buckets[j];

            p = ngx_sprintf(p, "mcp_tool_call_duration_seconds_bucket"
                            "{tool=\"%V\",le=\"%s\"} %uA\n", &names[i],
                            ngx_http_mcp_metrics_le[j], count);
        }

        p = ngx_sprintf(p, "mcp_tool_call_duration_seconds_sum{tool=\"%V\"} "
                        "%uA.%03uA\n", &names[i], row->sum / 1000,
                        row->sum % 1000);
        p = ngx_sprintf(p, "mcp_tool_call_duration_seconds_count"
                        "{tool=\"%V\"} %uA\n", &names[i], count);
    }

    (void) ngx_http_mcp_session_ready(mmcf->session_zone, &sessions);

    ngx_http_mcp_metrics_head(p, "mcp_sessions_active", "gauge",
                              "Sessions in the session zone.");
    p = ngx_sprintf(p, "mcp_sessions_active %ui\n", sessions);

    ngx_http_mcp_metrics_head(p, "mcp_sessions_evicted_total", "counter",
                              "Sessions ended to make room for new ones.");
    p = ngx_sprintf(p, "mcp_sessions_evicted_total %uA\n",
                    ngx_http_mcp_session_evicted(mmcf->session_zone));

    streams = 0;
    up = 0;
    down = 0;

    for (i = 0; i < NGX_HTTP_MCP_METRICS_SLOTS; i++) {
        streams += sh->streams[i];
        up += (sh->redis[i] == NGX_HTTP_MCP_REDIS_UP);
        down += (sh->redis[i] == NGX_HTTP_MCP_REDIS_DOWN);
    }

    ngx_http_mcp_metrics_head(p, "mcp_streams_active", "gauge",
                              "Open SSE streams of both transports.");
    p = ngx_sprintf(p, "mcp_streams_active %uA\n", streams);

    ngx_http_mcp_metrics_head(p, "mcp_auth_failures_total", "counter",
                              "Requests refused by mcp_auth or the Origin "
                              "check, by reason.");

    for (i = 0; i < NGX_HTTP_MCP_AUTH_REASONS; i++) {
        p = ngx_sprintf(p, "mcp_auth_failures_total{reason=\"%V\"} %uA\n",
                        &ngx_http_mcp_metrics_reasons[i], sh->auth[i]);
    }

    /* the zones' names, escaped once for both families */

    labels = ngx_pnalloc(r->pool, (nzones ? nzones : 1) * sizeof(ngx_str_t));
    if (labels == NULL) {
        return NULL;
    }

    for (i = 0; i < nzones; i++) {
        if (ngx_http_mcp_metrics_escape(&zones[i]->shm.name, &labels[i],
                                        r->pool)
            != NGX_OK)
        {
            return NULL;
        }
    }

    ngx_http_mcp_metrics_head(p, "mcp_rate_limited_total", "counter",
                              "Requests refused by mcp_limit_req, by zone.");

    for (i = 0; i < nzones; i++) {
        ngx_http_mcp_limit_counters(zones[i], &rejected, &delayed);

        p = ngx_sprintf(p, "mcp_rate_limited_total{zone=\"%V\"} %uA\n",
                        &labels[i], rejected);
    }

    ngx_http_mcp_metrics_head(p, "mcp_rate_delayed_total", "counter",
                              "Requests delayed by mcp_limit_req, by zone.");

    for (i = 0; i < nzones; i++) {
        ngx_http_mcp_limit_counters(zones[i], &rejected, &delayed);

        p = ngx_sprintf(p, "mcp_rate_delayed_total{zone=\"%V\"} %uA\n",
                        &labels[i], delayed);
    }

    ngx_http_mcp_metrics_head(p, "mcp_messages_routed_total", "counter",
                              "Server messages put on HTTP with SSE "
                              "streams, by the way they went.");
    p = ngx_sprintf(p, "mcp_messages_routed_total{path=\"local\"} %uA\n"
                    "mcp_messages_routed_total{path=\"ipc\"} %uA\n"
                    "mcp_messages_routed_total{path=\"redis\"} %uA\n"
                    "mcp_messages_routed_total{path=\"failed\"} %uA\n",
                    ngx_http_mcp_session_counter(mmcf->session_zone,
                                                 NGX_HTTP_MCP_DELIVERED_LOCAL),
                    ngx_http_mcp_session_counter(mmcf->session_zone,
                                                 NGX_HTTP_MCP_DELIVERED_IPC),
                    ngx_http_mcp_session_counter(mmcf->session_zone,
                                                 NGX_HTTP_MCP_DELIVERED_REDIS),
                    ngx_http_mcp_session_counter(mmcf->session_zone,
                                               NGX_HTTP_MCP_DELIVERY_FAILED));

    if (mmcf->redis) {
        ngx_http_mcp_metrics_head(p, "mcp_redis_up", "gauge",
                                  "1 when every worker's Redis connections "
                                  "are up.");
        p = ngx_sprintf(p, "mcp_redis_up %d\n", (up && !down) ? 1 : 0);

        ngx_http_mcp_metrics_head(p, "mcp_redis_reconnects_total", "counter",
                                  "Connections to Redis made again after "
                                  "a failure.");
        p = ngx_sprintf(p, "mcp_redis_reconnects_total %uA\n",
                        sh->reconnects);
    }

    b->last = p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out = ngx_alloc_chain_link(r->pool);
    if (out == NULL) {
        return NULL;
    }

    out->buf = b;
    out->next = NULL;

    return out;
}


static ngx_int_t
ngx_http_mcp_metrics_escape(ngx_str_t *value, ngx_str_t *out,
    ngx_pool_t *pool)
{
    u_char      *p;
    ngx_uint_t   i;

    /* a label value escapes backslash, double quote and line feed */

    out->data = ngx_pnalloc(pool, value->len * 2);
    if (out->data == NULL && value->len) {
        return NGX_ERROR;
    }

    p = out->data;

    for (i = 0; i < value->len; i++) {
        switch (value->data[i]) {

        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = value->data[i];
            break;

        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;

        default:
            *p++ = value->data[i];
        }
    }

    out->len = p - out->data;

    return NGX_OK;
}
