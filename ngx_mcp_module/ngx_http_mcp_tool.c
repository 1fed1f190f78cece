
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/rand.h>
#include "ngx_http_mcp_module.h"


/*
 * tools/call: a POST subrequest of the client's request to the tool's
 * internal location.  Header and body filters keep the subrequest's
 * answer in memory instead of letting it reach the client.
 */


static ngx_int_t ngx_http_mcp_tool_trace(ngx_http_request_t *sr);
static ngx_int_t ngx_http_mcp_tool_headers(ngx_http_request_t *sr,
    ngx_http_mcp_ctx_t *ctx, ngx_http_mcp_tool_t *tool, json_t *id,
    size_t len);
static ngx_int_t ngx_http_mcp_tool_header_add(ngx_http_request_t *sr,
    char *key, ngx_str_t *value, ngx_table_elt_t **ref);
static ngx_int_t ngx_http_mcp_tool_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
static void ngx_http_mcp_tool_resume(ngx_http_request_t *r);
static void ngx_http_mcp_tool_timeout(ngx_event_t *ev);
static void ngx_http_mcp_tool_cleanup(void *data);
static json_t *ngx_http_mcp_tool_failure(ngx_http_request_t *r,
    ngx_http_mcp_call_t *call);
static ngx_http_mcp_call_t *ngx_http_mcp_tool_capturing(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_tool_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_tool_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;

static ngx_str_t  ngx_http_mcp_post_method = ngx_string("POST");


ngx_int_t
ngx_http_mcp_tool_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_mcp_tool_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_mcp_tool_body_filter;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_tool_call(ngx_http_mcp_ctx_t *ctx, ngx_http_mcp_tool_t *tool,
    json_t *id, json_t *args, json_t **slot)
{
    size_t                        len;
    json_t                       *empty;
    ngx_buf_t                    *b;
    ngx_chain_t                  *cl;
    ngx_pool_cleanup_t           *cln;
    ngx_http_request_t           *r, *sr;
    ngx_http_mcp_call_t          *call;
    ngx_http_request_body_t      *rb;
    ngx_http_mcp_loc_conf_t      *mlcf;
    ngx_http_post_subrequest_t   *ps;

    r = ctx->request;
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    call = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_call_t));
    if (call == NULL) {
        return NGX_ERROR;
    }

    call->ctx = ctx;
    call->tool = tool;
    call->start = ngx_current_msec;
    call->id = id;
    call->slot = slot;
    call->reply.limit = mlcf->tool_max_response;
    call->reply.max_values = mlcf->max_json_values;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_mcp_tool_cleanup;
    cln->data = call;

    /* the backend's request body is the arguments object */

    empty = args ? NULL : json_object();
    args = args ? args : empty;

    len = json_dumpb(args, NULL, 0, JSON_COMPACT);

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    if (b == NULL) {
        json_decref(empty);
        return NGX_ERROR;
    }

    b->last += json_dumpb(args, (char *) b->pos, len, JSON_COMPACT);
    b->last_buf = 1;
    json_decref(empty);

    if (b->last == b->pos) {
        return NGX_ERROR;
    }

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (rb == NULL) {
        return NGX_ERROR;
    }

    rb->bufs = cl;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_mcp_tool_done;
    ps->data = call;

    if (ngx_http_subrequest(r, &tool->uri,
                            tool->args.len ? &tool->args : NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    call->sr = sr;

    sr->method = NGX_HTTP_POST;
    sr->method_name = ngx_http_mcp_post_method;
    sr->request_body = rb;
    sr->filter_need_in_memory = 1;

    if (ngx_http_mcp_tool_headers(sr, ctx, tool, id, b->last - b->pos)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    call->timer.handler = ngx_http_mcp_tool_timeout;
    call->timer.data = call;
    call->timer.log = r->connection->log;

    ngx_add_timer(&call->timer, tool->timeout != NGX_CONF_UNSET_MSEC
                                ? tool->timeout : mlcf->tool_timeout);

    ctx->call = call;
    r->write_event_handler = ngx_http_mcp_tool_resume;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp tool \"%V\" call to \"%V\"", &tool->name, &tool->uri);

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_tool_headers(ngx_http_request_t *sr, ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_tool_t *tool, json_t *id, size_t len)
{
    size_t       n;
    ngx_str_t    value, server;

    /*
     * The backend gets request headers of its own: none of the client's
     * (its Authorization and cookies above all) reach it, neither in
     * the list nor through $http_* and $cookie_* variables.
     */

    server = sr->headers_in.server;

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));

    if (ngx_list_init(&sr->headers_in.headers, sr->pool, 8,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->headers_in.server = server;
    sr->headers_in.content_length_n = len;
    sr->headers_in.keep_alive_n = -1;

    value.data = ngx_pnalloc(sr->pool, NGX_OFF_T_LEN);
    if (value.data == NULL) {
        return NGX_ERROR;
    }

    value.len = ngx_sprintf(value.data, "%uz", len) - value.data;

    if (ngx_http_mcp_tool_header_add(sr, "Content-Length", &value,
                                     &sr->headers_in.content_length)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&value, "application/json");

    if (ngx_http_mcp_tool_header_add(sr, "Content-Type", &value,
                                     &sr->headers_in.content_type)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    value.len = sizeof("application/json, " NGX_HTTP_MCP_RESULT_TYPE
                       ", text/plain;q=0.5, */*;q=0.1") - 1;
    value.data = (u_char *) "application/json, " NGX_HTTP_MCP_RESULT_TYPE
                            ", text/plain;q=0.5, */*;q=0.1";

    if (ngx_http_mcp_tool_header_add(sr, "Accept", &value, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_tool_header_add(sr, "Mcp-Tool-Name", &tool->name, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_tool_header_add(sr, "Mcp-Session-Id", &ctx->session_id,
                                     NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_mcp_tool_header_add(sr, "Mcp-Protocol-Version",
                                     ngx_http_mcp_version_name(ctx->version),
                                     NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the JSON-RPC id as JSON text: a string id keeps its quotes */

    n = json_dumpb(id, NULL, 0,
                   JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII);

    value.data = ngx_pnalloc(sr->pool, n ? n : 1);
    if (value.data == NULL) {
        return NGX_ERROR;
    }

    /* JSON text in ASCII: a header carries no raw UTF-8 or controls */

    value.len = json_dumpb(id, (char *) value.data, n,
                           JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII);

    if (ngx_http_mcp_tool_header_add(sr, "Mcp-Request-Id", &value, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_mcp_tool_trace(sr);
}


static ngx_int_t
ngx_http_mcp_tool_trace(ngx_http_request_t *sr)
{
    u_char                     *p;
    ngx_str_t                   value;
    ngx_table_elt_t            *h;
    ngx_http_request_t         *r;
    ngx_http_variable_value_t  *vv;
    ngx_http_mcp_main_conf_t   *mmcf;
    u_char                      span[8];

    /*
     * The backend's logs and traces join the gateway's: X-Request-ID is
     * the client request's $request_id, and traceparent continues the
     * client's trace, or starts one named by the request id.
     */

    r = sr->main;
    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    vv = ngx_http_get_indexed_variable(r, mmcf->request_id);

    if (vv == NULL || vv->not_found || vv->len != 32) {
        return NGX_ERROR;
    }

    value.data = vv->data;
    value.len = vv->len;

    if (ngx_http_mcp_tool_header_add(sr, "X-Request-ID", &value, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(sr->pool, NGX_HTTP_MCP_TRACEPARENT_LEN + 16);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (RAND_bytes(span, sizeof(span)) != 1) {
        return NGX_ERROR;
    }

    ngx_hex_dump(p + NGX_HTTP_MCP_TRACEPARENT_LEN, span, sizeof(span));

    h = ngx_http_mcp_header(r, "traceparent", sizeof("traceparent") - 1);

    value.data = p;
    value.len = NGX_HTTP_MCP_TRACEPARENT_LEN;

    if (ngx_http_mcp_traceparent(h ? h->value.data : NULL,
                                 h ? h->value.len : 0, vv->data,
                                 p + NGX_HTTP_MCP_TRACEPARENT_LEN, p)
        != NGX_OK)
    {
        return ngx_http_mcp_tool_header_add(sr, "traceparent", &value, NULL);
    }

    if (ngx_http_mcp_tool_header_add(sr, "traceparent", &value, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a trace continued keeps its vendors' state (at most 512 bytes) */

    h = ngx_http_mcp_header(r, "tracestate", sizeof("tracestate") - 1);

    if (h == NULL || h->value.len == 0 || h->value.len > 512) {
        return NGX_OK;
    }

    for (p = h->value.data; p < h->value.data + h->value.len; p++) {
        if (*p < 0x20 || *p > 0x7e) {
            return NGX_OK;
        }
    }

    return ngx_http_mcp_tool_header_add(sr, "tracestate", &h->value, NULL);
}


static ngx_int_t
ngx_http_mcp_tool_header_add(ngx_http_request_t *sr, char *key,
    ngx_str_t *value, ngx_table_elt_t **ref)
{
    size_t            len;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&sr->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(key);

    h->key.data = (u_char *) key;
    h->key.len = len;
    h->value = *value;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    h->lowcase_key = ngx_pnalloc(sr->pool, len);
    if (h->lowcase_key == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(h->lowcase_key, h->key.data, len);

    /* proxy_set_header overrides are found by this hash */
    h->hash = ngx_hash_key(h->lowcase_key, len);

    if (ref) {
        *ref = h;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_tool_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_mcp_call_t  *call = data;

    /*
     * Called on every finalization of the subrequest.  An error status
     * is nginx's own (the backend's statuses arrive as rc 0); it goes on
     * to nginx's error handling, so error_page in the tool location
     * still works.  NGX_ERROR after the header means the body was cut
     * short: that is the tool's failure, not the end of the client's
     * request.
     */

    if (rc == NGX_ERROR) {
        if (call->failure == 0) {
            call->failure = NGX_ERROR;
        }

        return NGX_OK;
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        call->failure = rc;
    }

    return rc;
}


static void
ngx_http_mcp_tool_resume(ngx_http_request_t *r)
{
    json_t                   *result;
    ngx_uint_t                outcome;
    ngx_http_mcp_ctx_t       *ctx;
    ngx_http_mcp_call_t      *call;
    ngx_http_mcp_loc_conf_t  *mlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);
    call = ctx->call;
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    if (call == NULL || !call->sr->done) {
        return;
    }

    ctx->call = NULL;
    r->write_event_handler = ngx_http_request_empty_handler;

    if (call->timer.timer_set) {
        ngx_del_timer(&call->timer);
    }

    /*
     * A body cut short arrives as NGX_ERROR in the post handler; an
     * answer with no body (204, "return 200;") is complete as it is;
     * an error_page redirect may have replaced nginx's error status.
     */

    outcome = NGX_HTTP_MCP_OUTCOME_OK;

    if (call->timed_out || call->failure == NGX_ERROR
        || (call->failure
            && call->reply.status == (ngx_uint_t) call->failure))
    {
        /* nginx answered in the backend's place */
        result = ngx_http_mcp_tool_failure(r, call);

        outcome = (call->timed_out
                   || call->failure == NGX_HTTP_GATEWAY_TIME_OUT)
                  ? NGX_HTTP_MCP_OUTCOME_TIMEOUT
                  : NGX_HTTP_MCP_OUTCOME_FAILED;

    } else {
        if (call->body) {
            call->reply.body = call->body->pos;
            call->reply.len = call->body->last - call->body->pos;
        }

        result = ngx_http_mcp_tool_result(r->pool, call->tool, &call->reply,
                                          mlcf->max_json_depth,
                                          ctx->version);
    }

    if (result == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (json_is_true(json_object_get(result, "isError"))
        && outcome == NGX_HTTP_MCP_OUTCOME_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp: tool \"%V\" returned an error",
                      &call->tool->name);

        outcome = NGX_HTTP_MCP_OUTCOME_ERROR;
    }

    ctx->tool_status = outcome + 1;

    ngx_http_mcp_metrics_tool(call->tool, outcome,
                              ngx_current_msec - call->start);

    *call->slot = ngx_http_mcp_response(call->id, result);

    if (*call->slot == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_mcp_dispatch(ctx);
}


static json_t *
ngx_http_mcp_tool_failure(ngx_http_request_t *r, ngx_http_mcp_call_t *call)
{
    u_char                   *p;
    ngx_str_t                *name;
    ngx_http_mcp_loc_conf_t  *mlcf;
    u_char                    text[NGX_HTTP_MCP_ERRLEN * 2];

    name = &call->tool->name;
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    if (call->timed_out) {
        p = ngx_snprintf(text, sizeof(text),
                         "tool \"%V\" timed out after %M ms", name,
                         call->tool->timeout != NGX_CONF_UNSET_MSEC
                         ? call->tool->timeout : mlcf->tool_timeout);

    } else if (call->failure == NGX_HTTP_BAD_GATEWAY) {
        p = ngx_snprintf(text, sizeof(text),
                         "tool \"%V\" is unavailable: its backend could not "
                         "be reached or sent an invalid response", name);

    } else if (call->failure == NGX_HTTP_GATEWAY_TIME_OUT) {
        p = ngx_snprintf(text, sizeof(text),
                         "tool \"%V\" timed out waiting for its backend",
                         name);

    } else if (call->failure == NGX_ERROR) {
        p = ngx_snprintf(text, sizeof(text),
                         "tool \"%V\" failed: the backend's response was "
                         "incomplete", name);

    } else {
        p = ngx_snprintf(text, sizeof(text),
                         "tool \"%V\" failed with HTTP status %i",
                         name, call->failure);
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0, "mcp: %*s",
                  p - text, text);

    return ngx_http_mcp_tool_error(r->pool, text, p - text);
}


static void
ngx_http_mcp_tool_timeout(ngx_event_t *ev)
{
    ngx_http_request_t   *sr;
    ngx_http_upstream_t  *u;
    ngx_http_mcp_call_t  *call;

    call = ev->data;
    sr = call->sr;

    if (sr->done) {
        return;
    }

    call->timed_out = 1;

    /*
     * The upstream is closed the way a client abort closes it, which
     * does not count against the peer (no max_fails, no next upstream);
     * then the subrequest ends with 504.  Before the upstream exists
     * (the tool location has not run yet), look again shortly.
     */

    u = sr->upstream;

    if (u == NULL || u->cleanup == NULL) {
        ngx_add_timer(&call->timer, 100);
        return;
    }

    /* the NGX_DONE finalization inside the cleanup takes one reference */
    sr->main->count++;

    (*u->cleanup)(sr);

    ngx_http_finalize_request(sr, NGX_HTTP_GATEWAY_TIME_OUT);
    ngx_http_run_posted_requests(sr->connection);
}


static void
ngx_http_mcp_tool_cleanup(void *data)
{
    ngx_http_mcp_call_t  *call = data;

    if (call->timer.timer_set) {
        ngx_del_timer(&call->timer);
    }
}


static ngx_http_mcp_call_t *
ngx_http_mcp_tool_capturing(ngx_http_request_t *r)
{
    ngx_http_mcp_ctx_t  *ctx;

    /*
     * The call is found through the client's request: an internal
     * redirect inside the tool location (try_files, X-Accel-Redirect,
     * error_page) clears the subrequest's own module contexts.
     */

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_mcp_module);

    if (ctx == NULL || ctx->call == NULL || ctx->call->sr != r) {
        return NULL;
    }

    return ctx->call;
}


static ngx_int_t
ngx_http_mcp_tool_header_filter(ngx_http_request_t *r)
{
    ngx_http_mcp_ctx_t   *ctx;
    ngx_http_mcp_call_t  *call;

    if (r == r->main) {
        ctx = ngx_http_mcp_error_ctx(r);

        if (ctx != NULL && ngx_http_mcp_error_page(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_http_next_header_filter(r);
    }

    call = ngx_http_mcp_tool_capturing(r);

    if (call == NULL) {
        return ngx_http_next_header_filter(r);
    }

    call->reply.status = r->headers_out.status;

    if (r->headers_out.content_type.len) {
        call->reply.content_type.data =
            ngx_pstrdup(r->pool, &r->headers_out.content_type);
        if (call->reply.content_type.data == NULL) {
            return NGX_ERROR;
        }

        call->reply.content_type.len = r->headers_out.content_type.len;
    }

    if (r->headers_out.content_length_n > (off_t) call->reply.limit) {
        call->reply.too_large = 1;
    }

    /* the header goes no further than nginx's own accounting */

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_mcp_tool_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    off_t                 want;
    size_t                size, len;
    ngx_buf_t            *b, *nb;
    ngx_uint_t            last;
    ngx_chain_t          *cl, out;
    ngx_http_mcp_ctx_t   *ctx;
    ngx_http_mcp_call_t  *call;

    if (r == r->main) {
        ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

        if (ctx == NULL || ctx->error_body == NULL) {
            return ngx_http_next_body_filter(r, in);
        }

        /* nginx's error page is dropped; ours goes out at its end */

        last = 0;

        for (cl = in; cl; cl = cl->next) {
            last |= cl->buf->last_buf;
            cl->buf->pos = cl->buf->last;
            cl->buf->file_pos = cl->buf->file_last;
        }

        if (last && !ctx->error_sent) {
            ctx->error_sent = 1;

            out.buf = ctx->error_body;
            out.next = NULL;

            return ngx_http_next_body_filter(r, &out);
        }

        /* flushes of what is still buffered go through */

        return (in == NULL) ? ngx_http_next_body_filter(r, NULL) : NGX_OK;
    }

    call = ngx_http_mcp_tool_capturing(r);

    if (call == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        size = ngx_buf_in_memory(b) ? (size_t) (b->last - b->pos) : 0;

        if (size && !call->reply.too_large) {

            len = call->body ? (size_t) (call->body->last - call->body->pos)
                             : 0;

            if (len + size > call->reply.limit) {
                call->reply.too_large = 1;

            } else {
                if (call->body == NULL
                    || (size_t) (call->body->end - call->body->last) < size)
                {
                    /* grow by doubling, up to the limit */

                    want = r->headers_out.content_length_n;

                    if (want < (off_t) (len + size)) {
                        want = ngx_max(len * 2, len + size);
                        want = ngx_max(want, 4096);
                        want = ngx_min(want, (off_t) call->reply.limit);
                    }

                    nb = ngx_create_temp_buf(r->pool, (size_t) want);
                    if (nb == NULL) {
                        return NGX_ERROR;
                    }

                    if (len) {
                        nb->last = ngx_cpymem(nb->last, call->body->pos,
                                              len);
                        ngx_pfree(r->pool, call->body->start);
                    }

                    call->body = nb;
                }

                call->body->last = ngx_cpymem(call->body->last, b->pos,
                                              size);
            }
        }

        /* consumed: the buffer goes back to whoever produced it */

        b->pos = b->last;

        if (b->in_file) {
            b->file_pos = b->file_last;
        }
    }

    return NGX_OK;
}
