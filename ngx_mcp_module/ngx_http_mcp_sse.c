
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_mcp_module.h"


/*
 * Server-sent event streams: the Streamable HTTP GET stream of a session.
 * A stream is a main request kept open (count++, NGX_DONE) and closed
 * once, with a last buffer and a single finalization: by the client, by
 * the end of its session, by a reader too slow for the backlog limit, or
 * by a worker shutting down.
 *
 * A worker on its way out only waits for timers that are not cancelable,
 * then reports every socket still open; the one thing nginx runs when a
 * graceful shutdown starts is the read handler of idle connections.  The
 * worker's IPC socket is such a connection, and its handler ends every
 * stream of the worker (ngx_http_mcp_sse_close_all), HTTP/1 and HTTP/2
 * alike.
 */


struct ngx_http_mcp_stream_s {
    ngx_str_node_t            node;         /* by session id, per worker */
    ngx_http_request_t       *request;
    ngx_http_mcp_ctx_t       *ctx;
    ngx_event_t               ping;
    ngx_chain_t              *free;
    ngx_chain_t              *busy;
    ngx_queue_t               queue;        /* the worker's streams */
    uint32_t                  serial;       /* the session's n-th stream */
    uint64_t                  events;
    unsigned                  legacy:1;
    unsigned                  closed:1;
};


static ngx_http_mcp_stream_t *ngx_http_mcp_sse_find(ngx_str_t *id);
static void ngx_http_mcp_sse_ping(ngx_event_t *ev);
static ngx_int_t ngx_http_mcp_sse_send(ngx_http_mcp_stream_t *st,
    ngx_str_t *parts, ngx_uint_t n, ngx_uint_t copy);
static void ngx_http_mcp_sse_reclaim(ngx_http_mcp_stream_t *st,
    ngx_chain_t *out);
static void ngx_http_mcp_sse_write(ngx_http_request_t *r);
static off_t ngx_http_mcp_sse_pending(ngx_http_mcp_stream_t *st);
static void ngx_http_mcp_sse_close(ngx_http_mcp_stream_t *st,
    ngx_int_t rc);
static void ngx_http_mcp_sse_cleanup(void *data);


/* per worker process: its open streams, in order and by session id */
static ngx_queue_t        ngx_http_mcp_streams;
static ngx_rbtree_t       ngx_http_mcp_stream_tree;
static ngx_rbtree_node_t  ngx_http_mcp_stream_sentinel;

static ngx_str_t  ngx_http_mcp_sse_ping_text = ngx_string(": ping\n\n");
static ngx_str_t  ngx_http_mcp_sse_open_text =
    ngx_string(": stream open\n\n");


ngx_int_t
ngx_http_mcp_sse_open(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    uint32_t serial, ngx_str_t *endpoint)
{
    ngx_int_t                 rc;
    ngx_str_t                 first[3];
    ngx_uint_t                n;
    ngx_connection_t         *c;
    ngx_pool_cleanup_t       *cln;
    ngx_http_mcp_stream_t    *st;
    ngx_http_mcp_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);
    c = r->connection;

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_stream_t));
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st->request = r;
    st->ctx = ctx;
    st->serial = serial;
    st->legacy = (endpoint != NULL);
    ctx->stream = st;

    cln->handler = ngx_http_mcp_sse_cleanup;
    cln->data = st;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = -1;
    ngx_str_set(&r->headers_out.content_type, "text/event-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (ngx_http_mcp_header_out(r, "Cache-Control", "no-cache") == NULL
        || ngx_http_mcp_header_out(r, "X-Accel-Buffering", "no") == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->replying = 1;
    r->keepalive = 0;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    /*
     * The header goes out now with a first event: where to POST for
     * HTTP with SSE, a comment the client may ignore otherwise.
     */

    if (endpoint) {
        ngx_str_set(&first[0], "event: endpoint\ndata: ");
        first[1] = *endpoint;
        ngx_str_set(&first[2], "\n\n");
        n = 3;

    } else {
        first[0] = ngx_http_mcp_sse_open_text;
        n = 1;
    }

    if (ngx_http_mcp_sse_send(st, first, n, endpoint != NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    /* from here on the stream closes itself, once */

    r->main->count++;

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_mcp_sse_write;

    ngx_queue_insert_tail(&ngx_http_mcp_streams, &st->queue);
    ngx_http_mcp_metrics_stream(1);

    st->node.str = ctx->session_id;
    st->node.node.key = ngx_crc32_short(ctx->session_id.data,
                                        ctx->session_id.len);
    ngx_rbtree_insert(&ngx_http_mcp_stream_tree, &st->node.node);

    st->ping.handler = ngx_http_mcp_sse_ping;
    st->ping.data = st;
    st->ping.log = c->log;
    st->ping.cancelable = 1;

    ngx_add_timer(&st->ping, mlcf->sse_ping_interval);

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "mcp: %sstream of session %V opened",
                  st->legacy ? "legacy " : "", &ctx->session_id);

    return NGX_DONE;
}


ngx_int_t
ngx_http_mcp_sse_deliver(ngx_str_t *id, u_char *json, size_t len)
{
    u_char                  *p;
    ngx_str_t                event[3];
    ngx_http_mcp_stream_t   *st;
    u_char                   head[sizeof("id: -\nevent: message\ndata: ")
                                  + NGX_INT32_LEN + NGX_INT64_LEN];

    /* a server message for a stream of this worker, as one event */

    st = ngx_http_mcp_sse_find(id);

    if (st == NULL) {
        return NGX_DECLINED;
    }

    /* ids are unique per session: the stream's number, then the event's */

    p = ngx_sprintf(head, "id: %uD-%uL\nevent: message\ndata: ",
                    st->serial, ++st->events);

    event[0].data = head;
    event[0].len = p - head;
    event[1].data = json;
    event[1].len = len;
    ngx_str_set(&event[2], "\n\n");

    if (ngx_http_mcp_sse_send(st, event, 3, 1) != NGX_OK) {
        ngx_http_mcp_sse_close(st, NGX_ERROR);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_sse_send(ngx_http_mcp_stream_t *st, ngx_str_t *parts,
    ngx_uint_t n, ngx_uint_t copy)
{
    off_t                     backlog;
    size_t                    len;
    u_char                   *p;
    ngx_int_t                 rc;
    ngx_buf_t                *b;
    ngx_uint_t                i;
    ngx_chain_t              *cl, *out;
    ngx_http_request_t       *r;
    ngx_http_mcp_loc_conf_t  *mlcf;

    r = st->request;
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    /*
     * A reader still behind by more than the limit when the next event
     * comes is cut off: a stream holds at most the limit plus one event.
     */

    backlog = ngx_http_mcp_sse_pending(st);

    if (backlog > (off_t) mlcf->sse_max_backlog) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mcp: stream of session %V has %O bytes unsent, "
                      "over mcp_sse_max_backlog; closing it",
                      &st->ctx->session_id, backlog);
        return NGX_ERROR;
    }

    cl = ngx_chain_get_free_buf(r->pool, &st->free);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    b = cl->buf;
    ngx_memzero(b, sizeof(ngx_buf_t));

    b->tag = (ngx_buf_tag_t) &ngx_http_mcp_module;
    b->flush = 1;

    if (!copy) {
        /* a comment of ours, in static memory */

        b->memory = 1;
        b->start = parts[0].data;
        b->end = parts[0].data + parts[0].len;

    } else {

        /*
         * The pool of a long-lived request never shrinks: each event
         * has heap memory of its own, given back once the event is sent
         * (ngx_http_mcp_sse_reclaim) or when the stream ends.
         */

        len = 0;

        for (i = 0; i < n; i++) {
            len += parts[i].len;
        }

        b->start = ngx_alloc(len, r->connection->log);
        if (b->start == NULL) {
            b->tag = NULL;
            return NGX_ERROR;
        }

        b->temporary = 1;
        b->end = b->start + len;

        p = b->start;

        for (i = 0; i < n; i++) {
            p = ngx_cpymem(p, parts[i].data, parts[i].len);
        }
    }

    b->pos = b->start;
    b->last = b->end;

    out = cl;

    rc = ngx_http_output_filter(r, out);

    ngx_http_mcp_sse_reclaim(st, out);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    (void) ngx_http_mcp_sse_pending(st);

    return NGX_OK;
}


static void
ngx_http_mcp_sse_reclaim(ngx_http_mcp_stream_t *st, ngx_chain_t *out)
{
    ngx_chain_t  *cl;

    ngx_chain_update_chains(st->request->pool, &st->free, &st->busy, &out,
                            (ngx_buf_tag_t) &ngx_http_mcp_module);

    /*
     * What was sent gives its memory back; buffers just freed are at the
     * head of the free chain, ahead of those given back before.
     */

    for (cl = st->free; cl && cl->buf->start; cl = cl->next) {
        if (cl->buf->temporary && cl->buf->start) {
            ngx_free(cl->buf->start);
            cl->buf->start = NULL;
            cl->buf->temporary = 0;
        }
    }
}


static void
ngx_http_mcp_sse_ping(ngx_event_t *ev)
{
    ngx_http_mcp_stream_t        *st;
    ngx_http_request_t           *r;
    ngx_http_mcp_loc_conf_t      *mlcf;
    ngx_http_mcp_main_conf_t     *mmcf;
    ngx_http_mcp_session_info_t   info;

    st = ev->data;
    r = st->request;

    if (r->connection->error) {
        /*
         * An HTTP/2 stream reset while frames were queued: nginx closes
         * it once they are gone, and the cleanup follows.
         */

        st->closed = 1;
        return;
    }

    if (ngx_exiting || ngx_terminate) {
        ngx_http_mcp_sse_close(st, NGX_OK);
        return;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);
    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    /* an open stream keeps its session alive; an ended session ends it */

    if (ngx_http_mcp_session_find(mmcf->session_zone, &st->ctx->session_id,
                                  &info)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp: session %V ended, closing its stream",
                      &st->ctx->session_id);
        ngx_http_mcp_sse_close(st, NGX_OK);
        return;
    }

    if (ngx_http_mcp_sse_send(st, &ngx_http_mcp_sse_ping_text, 1, 0)
        != NGX_OK)
    {
        ngx_http_mcp_sse_close(st, NGX_ERROR);
        return;
    }

    /* other hosts learn the stream is still here */

    ngx_http_mcp_redis_stream_alive(&st->ctx->session_id,
                                    NGX_HTTP_MCP_SSE_OWNER_TTL(mlcf));

    ngx_add_timer(&st->ping, mlcf->sse_ping_interval);
}


static void
ngx_http_mcp_sse_write(ngx_http_request_t *r)
{
    ngx_http_mcp_ctx_t     *ctx;
    ngx_http_mcp_stream_t  *st;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);
    st = ctx->stream;

    if (st == NULL || st->closed) {
        return;
    }

    if (r->connection->write->timedout) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, NGX_ETIMEDOUT,
                      "client timed out");
        r->connection->timedout = 1;
        ngx_http_mcp_sse_close(st, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
        ngx_http_mcp_sse_close(st, NGX_ERROR);
        return;
    }

    ngx_http_mcp_sse_reclaim(st, NULL);

    (void) ngx_http_mcp_sse_pending(st);
}


static off_t
ngx_http_mcp_sse_pending(ngx_http_mcp_stream_t *st)
{
    off_t                      backlog;
    ngx_chain_t               *cl;
    ngx_connection_t          *c;
    ngx_http_core_loc_conf_t  *clcf;

    /*
     * What waits unsent; while anything does, the client has send_timeout
     * to take it, as for any nginx response.
     */

    c = st->request->connection;
    backlog = 0;

    for (cl = st->busy; cl; cl = cl->next) {
        backlog += ngx_buf_size(cl->buf);
    }

    if (backlog || c->buffered) {
        /* as nginx's writer does, counted from the last progress */

        clcf = ngx_http_get_module_loc_conf(st->request, ngx_http_core_module);
        ngx_add_timer(c->write, clcf->send_timeout);

    } else if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    return backlog;
}


void
ngx_http_mcp_sse_init_process(void)
{
    ngx_queue_init(&ngx_http_mcp_streams);
    ngx_rbtree_init(&ngx_http_mcp_stream_tree, &ngx_http_mcp_stream_sentinel,
                    ngx_str_rbtree_insert_value);
}


void
ngx_http_mcp_sse_close_all(void)
{
    ngx_queue_t            *q;
    ngx_http_mcp_stream_t  *st;

    /* the worker is shutting down: end each stream with its last chunk */

    while (!ngx_queue_empty(&ngx_http_mcp_streams)) {
        q = ngx_queue_head(&ngx_http_mcp_streams);
        st = ngx_queue_data(q, ngx_http_mcp_stream_t, queue);

        ngx_queue_remove(q);
        ngx_queue_init(q);

        ngx_log_error(NGX_LOG_INFO, st->request->connection->log, 0,
                      "mcp: closing the stream of session %V on shutdown",
                      &st->ctx->session_id);

        ngx_http_mcp_sse_close(st, NGX_OK);
    }
}


static ngx_http_mcp_stream_t *
ngx_http_mcp_sse_find(ngx_str_t *id)
{
    ngx_str_node_t         *sn;
    ngx_http_mcp_stream_t  *st;

    sn = ngx_str_rbtree_lookup(&ngx_http_mcp_stream_tree, id,
                               ngx_crc32_short(id->data, id->len));

    if (sn == NULL) {
        return NULL;
    }

    st = (ngx_http_mcp_stream_t *) sn;

    return (st->closed || st->request->connection->error) ? NULL : st;
}


ngx_int_t
ngx_http_mcp_sse_close_session(ngx_str_t *id)
{
    ngx_http_mcp_stream_t  *st;

    st = ngx_http_mcp_sse_find(id);

    if (st == NULL) {
        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_INFO, st->request->connection->log, 0,
                  "mcp: session %V ended, closing its stream", id);

    ngx_http_mcp_sse_close(st, NGX_OK);

    return NGX_OK;
}


static void
ngx_http_mcp_sse_close(ngx_http_mcp_stream_t *st, ngx_int_t rc)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    if (st->closed) {
        return;
    }

    st->closed = 1;
    r = st->request;
    c = r->connection;

    if (st->ping.timer_set) {
        ngx_del_timer(&st->ping);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_send_special(r, NGX_HTTP_LAST);
    }

    ngx_http_finalize_request(r, rc);

    /*
     * Called from timers and other connections' handlers: what the
     * finalization posted (termination, say) runs now.  The stream's
     * memory may be gone; the connection's flags are checked.
     */

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_mcp_sse_cleanup(void *data)
{
    ngx_http_mcp_stream_t  *st = data;

    ngx_pid_t                  pid;
    ngx_chain_t               *cl;
    ngx_http_mcp_main_conf_t  *mmcf;

    /* the request ends: by us, by the client, or with its connection */

    st->closed = 1;

    for (cl = st->busy; cl; cl = cl->next) {
        if (cl->buf->temporary && cl->buf->start) {
            ngx_free(cl->buf->start);
            cl->buf->start = NULL;
        }
    }

    for (cl = st->free; cl; cl = cl->next) {
        if (cl->buf->temporary && cl->buf->start) {
            ngx_free(cl->buf->start);
            cl->buf->start = NULL;
        }
    }

    if (ngx_queue_next(&st->queue) != NULL) {
        ngx_queue_remove(&st->queue);
        ngx_rbtree_delete(&ngx_http_mcp_stream_tree, &st->node.node);
        ngx_http_mcp_metrics_stream(-1);
    }

    if (st->ping.timer_set) {
        ngx_del_timer(&st->ping);
    }

    mmcf = ngx_http_get_module_main_conf(st->request, ngx_http_mcp_module);

    ngx_http_mcp_redis_owner_release(&st->ctx->session_id, st->legacy);

    if (st->legacy) {
        /* with HTTP with SSE, the stream is the session */
        (void) ngx_http_mcp_session_delete(mmcf->session_zone,
                                           &st->ctx->session_id, &pid);

    } else {
        ngx_http_mcp_session_stream_release(mmcf->session_zone,
                                            &st->ctx->session_id, ngx_pid);
    }

    ngx_log_error(NGX_LOG_INFO, st->request->connection->log, 0,
                  "mcp: %sstream of session %V closed",
                  st->legacy ? "legacy " : "", &st->ctx->session_id);
}
