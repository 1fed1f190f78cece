
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
    ngx_http_request_t       *request;
    ngx_http_mcp_ctx_t       *ctx;
    ngx_event_t               ping;
    ngx_chain_t              *free;
    ngx_chain_t              *busy;
    ngx_queue_t               queue;        /* the worker's streams */
    unsigned                  closed:1;
};


static void ngx_http_mcp_sse_ping(ngx_event_t *ev);
static ngx_int_t ngx_http_mcp_sse_send(ngx_http_mcp_stream_t *st,
    u_char *data, size_t len);
static void ngx_http_mcp_sse_write(ngx_http_request_t *r);
static off_t ngx_http_mcp_sse_pending(ngx_http_mcp_stream_t *st);
static void ngx_http_mcp_sse_close(ngx_http_mcp_stream_t *st,
    ngx_int_t rc);
static void ngx_http_mcp_sse_cleanup(void *data);


/* per worker process: its open streams */
static ngx_queue_t  ngx_http_mcp_streams;

static u_char  ngx_http_mcp_sse_ping_text[] = ": ping\n\n";
static u_char  ngx_http_mcp_sse_open_text[] = ": stream open\n\n";


ngx_int_t
ngx_http_mcp_sse_open(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t                 rc;
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

    /* the header goes out now, with a comment the client may ignore */

    if (ngx_http_mcp_sse_send(st, ngx_http_mcp_sse_open_text,
                              sizeof(ngx_http_mcp_sse_open_text) - 1)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* from here on the stream closes itself, once */

    r->main->count++;

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_mcp_sse_write;

    ngx_queue_insert_tail(&ngx_http_mcp_streams, &st->queue);

    st->ping.handler = ngx_http_mcp_sse_ping;
    st->ping.data = st;
    st->ping.log = c->log;
    st->ping.cancelable = 1;

    ngx_add_timer(&st->ping, mlcf->sse_ping_interval);

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "mcp: stream of session %V opened", &ctx->session_id);

    return NGX_DONE;
}


static ngx_int_t
ngx_http_mcp_sse_send(ngx_http_mcp_stream_t *st, u_char *data, size_t len)
{
    off_t                     backlog;
    ngx_int_t                 rc;
    ngx_buf_t                *b;
    ngx_chain_t              *cl, *out;
    ngx_http_request_t       *r;
    ngx_http_mcp_loc_conf_t  *mlcf;

    r = st->request;
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    /* buffers come back from the busy chain once sent: the pool stays flat */

    cl = ngx_chain_get_free_buf(r->pool, &st->free);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    b = cl->buf;
    ngx_memzero(b, sizeof(ngx_buf_t));

    b->tag = (ngx_buf_tag_t) &ngx_http_mcp_module;
    b->memory = 1;
    b->flush = 1;
    b->start = data;
    b->pos = data;
    b->last = data + len;
    b->end = data + len;

    out = cl;

    rc = ngx_http_output_filter(r, out);

    ngx_chain_update_chains(r->pool, &st->free, &st->busy, &out,
                            (ngx_buf_tag_t) &ngx_http_mcp_module);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    /* a reader that lets the backlog grow past the limit is cut off */

    backlog = ngx_http_mcp_sse_pending(st);

    if (backlog > (off_t) mlcf->sse_max_backlog) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mcp: stream of session %V has %O bytes unsent, "
                      "over mcp_sse_max_backlog; closing it",
                      &st->ctx->session_id, backlog);
        return NGX_ERROR;
    }

    return NGX_OK;
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

    if (ngx_http_mcp_sse_send(st, ngx_http_mcp_sse_ping_text,
                              sizeof(ngx_http_mcp_sse_ping_text) - 1)
        != NGX_OK)
    {
        ngx_http_mcp_sse_close(st, NGX_ERROR);
        return;
    }

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
        ngx_http_mcp_sse_close(st, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
        ngx_http_mcp_sse_close(st, NGX_ERROR);
        return;
    }

    ngx_chain_update_chains(r->pool, &st->free, &st->busy, NULL,
                            (ngx_buf_tag_t) &ngx_http_mcp_module);

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
        if (!c->write->timer_set) {
            clcf = ngx_http_get_module_loc_conf(st->request,
                                                ngx_http_core_module);
            ngx_add_timer(c->write, clcf->send_timeout);
        }

    } else if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    return backlog;
}


void
ngx_http_mcp_sse_init_process(void)
{
    ngx_queue_init(&ngx_http_mcp_streams);
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


ngx_int_t
ngx_http_mcp_sse_close_session(ngx_str_t *id)
{
    ngx_queue_t            *q;
    ngx_http_mcp_stream_t  *st;

    for (q = ngx_queue_head(&ngx_http_mcp_streams);
         q != ngx_queue_sentinel(&ngx_http_mcp_streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_http_mcp_stream_t, queue);

        if (st->closed
            || st->ctx->session_id.len != id->len
            || ngx_memcmp(st->ctx->session_id.data, id->data, id->len) != 0)
        {
            continue;
        }

        ngx_log_error(NGX_LOG_INFO, st->request->connection->log, 0,
                      "mcp: session %V ended, closing its stream", id);

        ngx_http_mcp_sse_close(st, NGX_OK);

        return NGX_OK;
    }

    return NGX_DECLINED;
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

    ngx_http_mcp_main_conf_t  *mmcf;

    /* the request ends: by us, by the client, or with its connection */

    st->closed = 1;

    if (ngx_queue_next(&st->queue) != NULL) {
        ngx_queue_remove(&st->queue);
    }

    if (st->ping.timer_set) {
        ngx_del_timer(&st->ping);
    }

    mmcf = ngx_http_get_module_main_conf(st->request, ngx_http_mcp_module);

    ngx_http_mcp_session_stream_release(mmcf->session_zone,
                                        &st->ctx->session_id, ngx_pid);

    ngx_log_error(NGX_LOG_INFO, st->request->connection->log, 0,
                  "mcp: stream of session %V closed",
                  &st->ctx->session_id);
}
