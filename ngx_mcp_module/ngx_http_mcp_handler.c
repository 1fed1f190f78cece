
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <hiredis/hiredis.h>
#include "ngx_http_mcp_module.h"


/*
 * The Streamable HTTP endpoint: HTTP checks, the POST body, session
 * lookup, message dispatch and the reply.
 */


#define NGX_HTTP_MCP_SESSION_ID_MAX  128


typedef struct {
    ngx_shm_zone_t           *zone;
    ngx_str_t                 id;
} ngx_http_mcp_entered_t;


static ngx_int_t ngx_http_mcp_post(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_delete(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_get(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_not_allowed(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_read_json(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler);
static void ngx_http_mcp_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_read_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_mcp_process(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, ngx_str_t *body);
static ngx_int_t ngx_http_mcp_process_json(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_limit(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, ngx_http_mcp_resume_pt resume, ngx_int_t *sent);
static void ngx_http_mcp_limit_resume(ngx_event_t *ev);
static void ngx_http_mcp_resume(ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_limited(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, ngx_msec_t retry);
static ngx_int_t ngx_http_mcp_process_session(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_initialize(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, ngx_http_mcp_msg_t *msg);
static void ngx_http_mcp_initialize_registered(void *data, void *reply);
static ngx_int_t ngx_http_mcp_initialize_send(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_session_lookup(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, ngx_http_mcp_session_info_t *info);
static void ngx_http_mcp_looked_up(void *data, void *reply);
static ngx_int_t ngx_http_mcp_get_session(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static void ngx_http_mcp_get_claimed(void *data, void *reply);
static ngx_int_t ngx_http_mcp_get_open(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_conflict(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_delete_session(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_notify_session(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static void ngx_http_mcp_stream_end(ngx_http_request_t *r, ngx_str_t *id,
    ngx_pid_t stream);
static ngx_int_t ngx_http_mcp_unavailable(ngx_http_request_t *r,
    const char *message);
static void ngx_http_mcp_client_copy(ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_session_info_t *info);
static ngx_int_t ngx_http_mcp_too_many_sessions(ngx_http_request_t *r);
static ngx_int_t ngx_http_mcp_enter(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, ngx_uint_t max, ngx_int_t *sent);
static void ngx_http_mcp_leave(void *data);
static ngx_str_t *ngx_http_mcp_missing_scope(ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_tool_t *tool);
static ngx_array_t *ngx_http_mcp_visible_tools(ngx_http_mcp_ctx_t *ctx,
    ngx_array_t *tools);
static ngx_int_t ngx_http_mcp_client_owns(ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_session_info_t *info);
static ngx_int_t ngx_http_mcp_session(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, ngx_int_t *sent);
static ngx_int_t ngx_http_mcp_session_header(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, ngx_int_t *sent);
static ngx_int_t ngx_http_mcp_send_empty(ngx_http_request_t *r,
    ngx_uint_t status);
static ngx_int_t ngx_http_mcp_request(ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_msg_t *msg, json_t **slot);
static ngx_int_t ngx_http_mcp_finish(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_reject(ngx_http_request_t *r, json_t *id,
    ngx_uint_t status, ngx_int_t code, const char *message);
static ngx_int_t ngx_http_mcp_accepts(ngx_http_request_t *r,
    const char *type);
static ngx_int_t ngx_http_mcp_is_json_type(ngx_str_t *value);
static ngx_int_t ngx_http_mcp_session_id(ngx_http_request_t *r,
    ngx_str_t *id);
static ngx_int_t ngx_http_mcp_legacy_session_id(ngx_http_request_t *r,
    ngx_str_t *id);
static ngx_int_t ngx_http_mcp_legacy_initialize(ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_msg_t *msg, json_t **slot);
static ngx_int_t ngx_http_mcp_legacy_open(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static void ngx_http_mcp_legacy_registered(void *data, void *reply);
static ngx_int_t ngx_http_mcp_legacy_stream(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_mcp_endpoint(ngx_http_request_t *r,
    ngx_str_t *id, ngx_str_t *url);
static ngx_int_t ngx_http_mcp_url_check(ngx_http_request_t *r,
    ngx_str_t *value, const char *directive);
static ngx_int_t ngx_http_mcp_deliver(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, json_t *json);
static void ngx_http_mcp_owner_found(void *data, void *reply);
static ngx_int_t ngx_http_mcp_deliver_remote(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
static void ngx_http_mcp_delivery_done(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_mcp_delivered(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, ngx_int_t rc);
static void ngx_http_mcp_notify_body(ngx_http_request_t *r);
static void ngx_http_mcp_ctx_cleanup(void *data);
static u_char *ngx_http_mcp_log_error(ngx_http_request_t *r,
    ngx_http_request_t *sr, u_char *buf, size_t len);


static ngx_str_t  ngx_http_mcp_json_type = ngx_string("application/json");

/* nginx's own, called before ours adds to it */
static ngx_http_log_handler_pt  ngx_http_mcp_log_handler;


ngx_int_t
ngx_http_mcp_handler(ngx_http_request_t *r)
{
    if (r != r->main) {
        /* an MCP endpoint serves clients, not subrequests (SSI, mirror) */

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mcp: subrequest to an MCP location refused");
        return NGX_HTTP_NOT_FOUND;
    }

    /* the access phase may have made it, naming the client */

    if (ngx_http_get_module_ctx(r, ngx_http_mcp_module) == NULL
        && ngx_http_mcp_ctx_create(r) == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* errors answer in JSON-RPC here, not through error_page redirects */
    r->error_page = 1;

    switch (r->method) {

    case NGX_HTTP_POST:
        return ngx_http_mcp_post(r);

    case NGX_HTTP_DELETE:
        return ngx_http_mcp_delete(r);

    case NGX_HTTP_GET:
        return ngx_http_mcp_get(r);

    default:
        return ngx_http_mcp_not_allowed(r);
    }
}


static ngx_int_t
ngx_http_mcp_not_allowed(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    /* Streamable HTTP knows GET, POST and DELETE */

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_mcp_header_out(r, "Allow", "GET, POST, DELETE") == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_reject(r, NULL, NGX_HTTP_NOT_ALLOWED,
                               NGX_HTTP_MCP_TRANSPORT_ERROR,
                               "Method Not Allowed: use GET, POST or DELETE");
}


static ngx_int_t
ngx_http_mcp_post(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_str_t            id;
    ngx_http_mcp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    /*
     * HTTP with SSE (2024-11-05): a POST to the endpoint the stream gave,
     * its session named by the "sessionId" argument.
     */

    if (ngx_http_mcp_session_id(r, &id) == NGX_DECLINED) {
        rc = ngx_http_mcp_legacy_session_id(r, &ctx->session_id);

        if (rc == NGX_ERROR) {
            rc = ngx_http_discard_request_body(r);
            if (rc != NGX_OK) {
                return rc;
            }

            return ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                       NGX_HTTP_MCP_TRANSPORT_ERROR,
                                       "Bad Request: malformed sessionId");
        }

        ctx->legacy = (rc == NGX_OK);
    }

    /* Streamable HTTP, sending messages to the server */

    if (!ctx->legacy
        && (!ngx_http_mcp_accepts(r, "application/json")
            || !ngx_http_mcp_accepts(r, "text/event-stream")))
    {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_MCP_NOT_ACCEPTABLE,
                                   NGX_HTTP_MCP_TRANSPORT_ERROR,
                                   "Not Acceptable: the client must accept "
                                   "both application/json and "
                                   "text/event-stream");
    }

    return ngx_http_mcp_read_json(r, ngx_http_mcp_body_handler);
}


static ngx_int_t
ngx_http_mcp_read_json(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler)
{
    ngx_int_t                 rc;
    ngx_http_mcp_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    /* a JSON body within mcp_max_body_size, read in full */

    if (r->headers_in.content_type == NULL
        || !ngx_http_mcp_is_json_type(&r->headers_in.content_type->value))
    {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                   NGX_HTTP_MCP_TRANSPORT_ERROR,
                                   "Unsupported Media Type: Content-Type "
                                   "must be application/json");
    }

    if (r->headers_in.content_length_n > (off_t) mlcf->max_body_size) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                   NGX_HTTP_MCP_INVALID_REQUEST,
                                   "Request body exceeds "
                                   "mcp_max_body_size");
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, handler);

    if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        /* a chunked body past the limit; the rest is not read */
        r->keepalive = 0;
        r->lingering_close = 1;

        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                   NGX_HTTP_MCP_INVALID_REQUEST,
                                   "Request body exceeds "
                                   "mcp_max_body_size");
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


ngx_http_mcp_ctx_t *
ngx_http_mcp_ctx_create(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;
    ngx_http_mcp_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_mcp_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_mcp_ctx_cleanup;
    cln->data = ctx;

    ctx->request = r;
    ngx_http_set_ctx(r, ctx, ngx_http_mcp_module);

    /* error log lines of the request name its session and method */

    if (r == r->main) {
        if (ngx_http_mcp_log_handler == NULL) {
            ngx_http_mcp_log_handler = r->log_handler;
        }

        if (r->log_handler == ngx_http_mcp_log_handler) {
            r->log_handler = ngx_http_mcp_log_error;
        }
    }

    return ctx;
}


static u_char *
ngx_http_mcp_log_error(ngx_http_request_t *r, ngx_http_request_t *sr,
    u_char *buf, size_t len)
{
    u_char              *p, *last;
    ngx_str_t           *values[3];
    ngx_uint_t           i, j;
    ngx_http_mcp_ctx_t  *ctx;

    static const char  *names[] = {
        ", mcp_session: ", ", mcp_method: ", ", mcp_tool: "
    };

    p = ngx_http_mcp_log_handler(r, sr, buf, len);

    /* an internal redirect leaves the handler and clears the context */

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    if (ctx == NULL) {
        return p;
    }

    values[0] = &ctx->session_id;
    values[1] = &ctx->method;
    values[2] = &ctx->tool;

    last = buf + len;

    for (i = 0; i < 3; i++) {
        if (values[i]->len == 0) {
            continue;
        }

        p = ngx_slprintf(p, last, "%s", names[i]);

        /* a method is the client's: no control characters reach the log */

        for (j = 0; j < ngx_min(values[i]->len, 64) && p < last; j++) {
            *p++ = (values[i]->data[j] < 0x20 || values[i]->data[j] == 0x7f)
                   ? '?' : values[i]->data[j];
        }
    }

    return p;
}


static void
ngx_http_mcp_ctx_cleanup(void *data)
{
    ngx_http_mcp_ctx_t  *ctx = data;

    ngx_pid_t                  pid;
    ngx_uint_t                 i;
    ngx_http_mcp_main_conf_t  *mmcf;

    if (ctx->ipc) {
        ngx_http_mcp_ipc_detach(ctx->ipc);
        ctx->ipc = NULL;
    }

    if (ctx->redis) {
        ngx_http_mcp_redis_cancel(ctx->redis);
        ctx->redis = NULL;
    }

    if (ctx->msg) {
        ngx_http_mcp_redis_msg_cancel(ctx->msg);
        ctx->msg = NULL;
    }

    if (ctx->opening) {
        /* a legacy session whose stream never opened */

        mmcf = ngx_http_get_module_main_conf(ctx->request,
                                             ngx_http_mcp_module);

        (void) ngx_http_mcp_session_delete(mmcf->session_zone,
                                           &ctx->session_id, &pid);
        ngx_http_mcp_redis_owner_release(&ctx->session_id, 1);
    }

    if (ctx->limit_timer.timer_set) {
        ngx_del_timer(&ctx->limit_timer);
    }

    json_decref(ctx->pending);

    for (i = 0; ctx->responses && i < ctx->nmessages; i++) {
        json_decref(ctx->responses[i]);
    }

    json_decref(ctx->body);
}


static void
ngx_http_mcp_body_handler(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_str_t            body;
    ngx_http_mcp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    rc = ngx_http_mcp_read_body(r, &body);

    if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        rc = ngx_http_mcp_reject(r, NULL, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Request body exceeds mcp_max_body_size");

    } else if (rc == NGX_OK) {
        rc = ngx_http_mcp_process(r, ctx, &body);
    }

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


static ngx_int_t
ngx_http_mcp_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    off_t                     len;
    u_char                   *p;
    ssize_t                   n;
    ngx_buf_t                *b;
    ngx_chain_t              *cl;
    ngx_http_mcp_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    len = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl;
         cl = cl->next)
    {
        len += ngx_buf_size(cl->buf);
    }

    /* chunked bodies have no Content-Length to check up front */

    if (len > (off_t) mlcf->max_body_size) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    if (len == 0) {
        body->len = 0;
        body->data = (u_char *) "";
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body->data = p;
    body->len = len;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            /* a body larger than client_body_buffer_size, in page cache */

            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);

            if (n != b->file_last - b->file_pos) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            p += n;
            continue;
        }

        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_process(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    ngx_str_t *body)
{
    size_t                    i, n;
    json_t                   *json;
    ngx_http_mcp_msg_t        msg;
    ngx_http_mcp_loc_conf_t  *mlcf;
    char                      err[NGX_HTTP_MCP_ERRLEN];
    u_char                    text[NGX_HTTP_MCP_ERRLEN * 2];

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    if (ngx_http_mcp_json_values(body->data, body->len,
                                 mlcf->max_json_values)
        != NGX_OK)
    {
        *ngx_snprintf((u_char *) err, sizeof(err) - 1,
                      "more than %ui JSON values", mlcf->max_json_values)
            = '\0';
        json = NULL;

    } else {
        json = ngx_http_mcp_json_parse(body->data, body->len,
                                       mlcf->max_json_depth, err);
    }

    if (json == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp: parse error: %s", err);

        *ngx_snprintf(text, sizeof(text) - 1, "Parse error: %s", err) = '\0';

        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                   NGX_HTTP_MCP_PARSE_ERROR,
                                   (char *) text);
    }

    ctx->body = json;

    if (json_is_array(json)) {
        ngx_str_set(&ctx->method, "batch");
    }

    n = json_is_array(json) ? json_array_size(json) : 1;

    for (i = 0; i < n; i++) {
        ngx_http_mcp_msg_classify(json_is_array(json)
                                  ? json_array_get(json, i) : json, &msg);

        if (msg.kind == NGX_HTTP_MCP_MSG_REQUEST
            || msg.kind == NGX_HTTP_MCP_MSG_NOTIFICATION)
        {
            ngx_http_mcp_metrics_request(&msg.method);
        }
    }

    return ngx_http_mcp_process_json(r, ctx);
}


static ngx_int_t
ngx_http_mcp_process_json(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    size_t               n;
    json_t              *json;
    ngx_int_t            sent;
    ngx_http_mcp_msg_t   msg;

    json = ctx->body;

    if (json_is_object(json)) {
        ngx_http_mcp_msg_classify(json, &msg);

        ctx->method = msg.method;
        ctx->id = msg.id;

        if (msg.kind == NGX_HTTP_MCP_MSG_REQUEST
            && ngx_http_mcp_method_is(&msg, "initialize")
            && !ctx->legacy)
        {
            if (ngx_http_mcp_limit(r, ctx, ngx_http_mcp_process_json, &sent)
                != NGX_OK)
            {
                return sent;
            }

            return ngx_http_mcp_initialize(r, ctx, &msg);
        }
    }

    if (json_is_array(json)) {
        for (n = 0; n < json_array_size(json); n++) {
            ngx_http_mcp_msg_classify(json_array_get(json, n), &msg);

            if (ngx_http_mcp_method_is(&msg, "initialize")) {
                return ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                           NGX_HTTP_MCP_INVALID_REQUEST,
                                           "Invalid Request: initialize "
                                           "must not be part of a batch");
            }
        }
    }

    return ngx_http_mcp_process_session(r, ctx);
}


static ngx_int_t
ngx_http_mcp_process_session(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    size_t                    n;
    json_t                   *json;
    ngx_int_t                 rc, sent;
    ngx_http_mcp_msg_t        msg;
    ngx_http_mcp_loc_conf_t  *mlcf;
    u_char                    text[NGX_HTTP_MCP_ERRLEN * 2];

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);
    json = ctx->body;

    rc = ngx_http_mcp_session(r, ctx, &sent);

    if (rc == NGX_AGAIN) {
        /* asking Redis; the request goes on from here */
        ctx->resume = ngx_http_mcp_process_session;
        ctx->resume_body = 1;
        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        /* rejected: sent is how sending the rejection went */
        return sent;
    }

    if (json_is_array(json)) {

        /* JSON-RPC batches exist in revision 2025-03-26 only */

        if (ctx->version == NGX_HTTP_MCP_V_UNKNOWN) {
            return ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                       NGX_HTTP_MCP_INVALID_REQUEST,
                                       "Invalid Request: a batch before "
                                       "initialize");
        }

        if (ctx->version != NGX_HTTP_MCP_V_2025_03_26) {
            *ngx_snprintf(text, sizeof(text) - 1,
                          "Invalid Request: JSON-RPC batches are not "
                          "supported in protocol revision %V",
                          ngx_http_mcp_version_name(ctx->version)) = '\0';

            return ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                       NGX_HTTP_MCP_INVALID_REQUEST,
                                       (char *) text);
        }

        n = json_array_size(json);

        if (n == 0) {
            return ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                       NGX_HTTP_MCP_INVALID_REQUEST,
                                       "Invalid Request: empty batch");
        }

        if (n > mlcf->max_batch) {
            *ngx_snprintf(text, sizeof(text) - 1,
                          "Invalid Request: a batch of %uz messages exceeds "
                          "the limit of %ui", n, mlcf->max_batch) = '\0';

            return ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                       NGX_HTTP_MCP_INVALID_REQUEST,
                                       (char *) text);
        }

        ctx->batch = 1;
        ctx->nmessages = n;

    } else {
        ctx->nmessages = 1;
    }

    /* a well-formed POST is counted, then takes its place in the session */

    if (ngx_http_mcp_limit(r, ctx, ngx_http_mcp_process_session, &sent)
        != NGX_OK)
    {
        return sent;
    }

    if (!ctx->entered && mlcf->max_session_requests) {
        rc = ngx_http_mcp_enter(r, ctx, mlcf->max_session_requests, &sent);
        if (rc != NGX_OK) {
            return sent;
        }
    }

    ctx->responses = ngx_pcalloc(r->pool, ctx->nmessages * sizeof(json_t *));
    if (ctx->responses == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ctx->batch) {
        ngx_http_mcp_msg_classify(json, &msg);

        /* a lone invalid message is an HTTP-level failure as well */

        if (msg.kind == NGX_HTTP_MCP_MSG_INVALID) {
            *ngx_snprintf(text, sizeof(text) - 1, "Invalid Request: %s",
                          msg.error) = '\0';

            return ngx_http_mcp_reject(r, msg.id, NGX_HTTP_BAD_REQUEST,
                                       NGX_HTTP_MCP_INVALID_REQUEST,
                                       (char *) text);
        }
    }

    ngx_http_mcp_dispatch(ctx);

    return NGX_DONE;
}



static ngx_int_t
ngx_http_mcp_limit(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_resume_pt resume, ngx_int_t *sent)
{
    ngx_int_t   rc;
    ngx_msec_t  delay, retry;

    /* mcp_limit_req counts a POST once, before anything of it is done */

    if (ctx->limit_done) {
        return NGX_OK;
    }

    ctx->limit_done = 1;

    rc = ngx_http_mcp_limit_check(r, ctx, &delay, &retry);

    if (rc == NGX_ERROR) {
        *sent = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    if (rc == NGX_BUSY) {
        *sent = ngx_http_mcp_limited(r, ctx, retry);
        return NGX_DECLINED;
    }

    if (delay == 0) {
        return NGX_OK;
    }

    /* within the burst: the POST waits its turn, as limit_req's do */

    ctx->resume = resume;
    ctx->resume_body = 1;

    ctx->limit_timer.handler = ngx_http_mcp_limit_resume;
    ctx->limit_timer.data = ctx;
    ctx->limit_timer.log = r->connection->log;

    ngx_add_timer(&ctx->limit_timer, delay);

    /* a client that goes away meanwhile ends the request */
    r->read_event_handler = ngx_http_test_reading;

    *sent = NGX_DONE;

    return NGX_AGAIN;
}


static void
ngx_http_mcp_limit_resume(ngx_event_t *ev)
{
    ngx_http_mcp_ctx_t  *ctx = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    r->read_event_handler = ngx_http_block_reading;

    ngx_http_mcp_resume(ctx);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_mcp_resume(ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t            rc;
    ngx_uint_t           body;
    ngx_http_request_t  *r;

    r = ctx->request;

    /* a POST may be answered and freed inside: read what is needed first */

    body = ctx->resume_body;

    rc = ctx->resume(r, ctx);

    if (!(rc == NGX_DONE && body)) {
        ngx_http_finalize_request(r, rc);
    }
}


static ngx_int_t
ngx_http_mcp_limited(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    ngx_msec_t retry)
{
    u_char                   *value;
    json_t                   *out, *err, *json;
    ngx_int_t                 rc;
    ngx_msec_t                seconds;
    ngx_uint_t                i, n;
    ngx_http_mcp_msg_t        msg;
    ngx_http_mcp_loc_conf_t  *mlcf;
    u_char                    text[NGX_HTTP_MCP_ERRLEN * 2];

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    /*
     * Refused whole: every request of the POST gets the error, and
     * nothing of it is dispatched nor put on a stream.
     */

    seconds = (retry + 999) / 1000;

    if (retry == 0) {
        /* a batch larger than the bucket: waiting will not help */

        *ngx_snprintf(text, sizeof(text) - 1,
                      "Too Many Requests: the batch holds more requests "
                      "than rate limit \"%V\" takes at once",
                      &ctx->limit_zone) = '\0';

    } else {
        value = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 1);
        if (value == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(value, "%M%Z", seconds);

        if (ngx_http_mcp_header_out(r, "Retry-After", (char *) value)
            == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *ngx_snprintf(text, sizeof(text) - 1,
                      "Too Many Requests: rate limit \"%V\" exceeded, "
                      "retry after %M s", &ctx->limit_zone, seconds) = '\0';
    }

    n = json_is_array(ctx->body) ? json_array_size(ctx->body) : 1;

    out = json_is_array(ctx->body) ? json_array() : NULL;

    for (i = 0; i < n; i++) {
        json = out ? json_array_get(ctx->body, i) : ctx->body;

        ngx_http_mcp_msg_classify(json, &msg);

        if (msg.kind != NGX_HTTP_MCP_MSG_REQUEST) {
            continue;
        }

        err = ngx_http_mcp_error(msg.id, NGX_HTTP_MCP_TRANSPORT_ERROR,
                                 (char *) text);

        if (err == NULL
            || (seconds
                && json_object_set_new(json_object_get(err, "error"), "data",
                                       json_pack("{s:I}", "retryAfter",
                                                 (json_int_t) seconds))
                   != 0))
        {
            json_decref(err);
            json_decref(out);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (out == NULL) {
            out = err;
            break;
        }

        if (json_array_append_new(out, err) != 0) {
            json_decref(out);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_mcp_send_json(r, mlcf->limit_status_code, out);
    json_decref(out);

    return rc;
}

static ngx_int_t
ngx_http_mcp_initialize(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_msg_t *msg)
{
    u_char                       *id;
    json_t                       *result, *response;
    ngx_int_t                     rc;
    ngx_str_t                     sid;
    ngx_table_elt_t              *h;
    ngx_http_mcp_loc_conf_t      *mlcf;
    ngx_http_mcp_main_conf_t     *mmcf;
    ngx_http_mcp_session_info_t   info;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);
    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    if (ngx_http_mcp_session_id(r, &sid) != NGX_DECLINED) {
        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                   NGX_HTTP_MCP_INVALID_REQUEST,
                                   "Invalid Request: initialize starts a "
                                   "new session and must not carry "
                                   "Mcp-Session-Id");
    }

    if (!json_is_object(msg->params)
        || !json_is_string(json_object_get(msg->params, "protocolVersion")))
    {
        response = ngx_http_mcp_error(msg->id, NGX_HTTP_MCP_INVALID_PARAMS,
                                      "Invalid params: initialize needs "
                                      "a \"protocolVersion\" string");

        rc = ngx_http_mcp_send_json(r, NGX_HTTP_BAD_REQUEST, response);
        json_decref(response);

        return rc;
    }

    info.version = ngx_http_mcp_version_negotiate(msg->params,
                                                  NGX_HTTP_MCP_V_STREAMABLE);
    info.legacy = 0;

    /* the session is its client's: mcp_auth's principal, if any */
    ngx_http_mcp_client_copy(ctx, &info);
    info.stream = 0;

    id = ngx_pnalloc(r->pool, NGX_HTTP_MCP_SESSION_ID_LEN);
    if (id == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the answer is ready before the session exists: no orphans */

    result = ngx_http_mcp_initialize_result(info.version,
                                            &mlcf->server_name,
                                            &mlcf->server_version,
                                            &mlcf->instructions);

    response = ngx_http_mcp_response(msg->id, result);
    if (response == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    info.max_per_client = mlcf->max_client_sessions;

    rc = ngx_http_mcp_session_create(mmcf->session_zone, &info, id,
                                     r->connection->log);

    if (rc != NGX_OK) {
        json_decref(response);

        if (rc == NGX_ABORT) {
            return ngx_http_mcp_too_many_sessions(r);
        }

        if (rc == NGX_BUSY) {
            return ngx_http_mcp_reject(r, NULL, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       NGX_HTTP_MCP_TRANSPORT_ERROR,
                                       "Service Unavailable: no room for "
                                       "a new session");
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->session_id.data = id;
    ctx->session_id.len = NGX_HTTP_MCP_SESSION_ID_LEN;
    ctx->version = info.version;

    h = ngx_http_mcp_header_out(r, "Mcp-Session-Id", "");
    if (h == NULL) {
        json_decref(response);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value = ctx->session_id;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp: session %V started, protocol %V",
                  &ctx->session_id, ngx_http_mcp_version_name(info.version));

    ctx->pending = response;

    /*
     * With Redis, the client learns its session once every host can find
     * it; in an outage the session is registered when Redis is back.
     */

    rc = ngx_http_mcp_redis_session_set(&ctx->session_id, &info,
                                        ngx_http_mcp_initialize_registered,
                                        ctx, &ctx->redis);
    if (rc == NGX_OK) {
        return NGX_DONE;
    }

    return ngx_http_mcp_initialize_send(r, ctx);
}


static void
ngx_http_mcp_initialize_registered(void *data, void *r)
{
    ngx_http_mcp_ctx_t  *ctx = data;

    redisReply  *reply = r;

    ngx_connection_t          *c;
    ngx_http_request_t        *req;
    ngx_http_mcp_main_conf_t  *mmcf;

    req = ctx->request;
    c = req->connection;
    ctx->redis = NULL;

    if (reply && reply->type == REDIS_REPLY_STATUS) {
        mmcf = ngx_http_get_module_main_conf(req, ngx_http_mcp_module);
        ngx_http_mcp_session_mark(mmcf->session_zone, &ctx->session_id, 1);

    } else if (reply && reply->type == REDIS_REPLY_ERROR) {
        /* a replica after a failover, out of memory: connect again */
        ngx_http_mcp_redis_failed(reply->str);
    }

    ngx_http_finalize_request(req, ngx_http_mcp_initialize_send(req, ctx));
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_mcp_initialize_send(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t   rc;
    json_t     *response;

    response = ctx->pending;
    ctx->pending = NULL;

    rc = ngx_http_mcp_send_json(r, NGX_HTTP_OK, response);
    json_decref(response);

    return rc;
}


static ngx_int_t
ngx_http_mcp_session(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    ngx_int_t *sent)
{
    u_char                       *p;
    ngx_int_t                     rc;
    ngx_uint_t                    version;
    ngx_table_elt_t              *h;
    ngx_http_mcp_session_info_t   info;
    u_char                        text[NGX_HTTP_MCP_ERRLEN * 2];

    /* Streamable HTTP, session management */

    if (!ctx->legacy
        && ngx_http_mcp_session_header(r, ctx, sent) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /*
     * The header, when sent, must name a supported revision; without it
     * the request is taken as 2025-03-26.  What the session may do is
     * decided by the revision negotiated at initialize.
     */

    h = ngx_http_mcp_header(r, "mcp-protocol-version",
                            sizeof("mcp-protocol-version") - 1);

    if (h != NULL) {
        version = ngx_http_mcp_version_parse(h->value.data, h->value.len);

        if (version == NGX_HTTP_MCP_V_UNKNOWN
            || (version < NGX_HTTP_MCP_V_STREAMABLE && !ctx->legacy))
        {
            p = ngx_snprintf(text, sizeof(text) - 1,
                             "Bad Request: unsupported MCP-Protocol-Version "
                             "\"%*s\" (supported: ",
                             ngx_min(h->value.len, 32), h->value.data);
            p = ngx_http_mcp_versions_text(p, text + sizeof(text) - 2,
                                           ctx->legacy
                                           ? NGX_HTTP_MCP_V_OLDEST
                                           : NGX_HTTP_MCP_V_STREAMABLE);
            *p++ = ')';
            *p = '\0';

            *sent = ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                        NGX_HTTP_MCP_TRANSPORT_ERROR,
                                        (char *) text);
            return NGX_DECLINED;
        }
    }

    /* a session is reached only through the transport that made it */

    rc = ngx_http_mcp_session_lookup(r, ctx, &info);

    if (rc == NGX_AGAIN) {
        return NGX_AGAIN;
    }

    if (rc == NGX_BUSY) {
        *sent = ngx_http_mcp_unavailable(r, "Service Unavailable: the "
                                         "session store cannot be "
                                         "reached");
        return NGX_DECLINED;
    }

    /*
     * A session is reached only by the client it belongs to: another
     * one is told it does not exist.
     */

    if (rc == NGX_OK && !ngx_http_mcp_client_owns(ctx, &info)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mcp: client \"%V\" asked for session %V of "
                      "another client", &ctx->client, &ctx->session_id);
        rc = NGX_DECLINED;
    }

    if (rc != NGX_OK || info.legacy != ctx->legacy) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp: unknown session \"%V\"", &ctx->session_id);

        *sent = ngx_http_mcp_reject(r, NULL, NGX_HTTP_NOT_FOUND,
                                    NGX_HTTP_MCP_SESSION_NOT_FOUND,
                                    "Session not found");
        return NGX_DECLINED;
    }

    ctx->version = info.version;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_session_header(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    ngx_int_t *sent)
{
    ngx_int_t  rc;

    rc = ngx_http_mcp_session_id(r, &ctx->session_id);

    if (rc == NGX_DECLINED) {
        *sent = ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                    NGX_HTTP_MCP_TRANSPORT_ERROR,
                                    "Bad Request: Mcp-Session-Id header is "
                                    "required; send initialize first");
        return NGX_DECLINED;
    }

    if (rc == NGX_ERROR) {
        *sent = ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                    NGX_HTTP_MCP_TRANSPORT_ERROR,
                                    "Bad Request: malformed Mcp-Session-Id");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


void
ngx_http_mcp_dispatch(ngx_http_mcp_ctx_t *ctx)
{
    json_t              *json, **slot;
    ngx_int_t            rc;
    ngx_http_request_t  *r;
    ngx_http_mcp_msg_t   msg;
    char                 text[NGX_HTTP_MCP_ERRLEN * 2];

    r = ctx->request;

    /* messages run in order; a tool call suspends the loop */

    while (ctx->next < ctx->nmessages) {

        json = ctx->batch ? json_array_get(ctx->body, ctx->next) : ctx->body;

        ngx_http_mcp_msg_classify(json, &msg);

        switch (msg.kind) {

        case NGX_HTTP_MCP_MSG_REQUEST:
            slot = &ctx->responses[ctx->next++];

            rc = ngx_http_mcp_request(ctx, &msg, slot);

            if (rc == NGX_AGAIN) {
                return;
            }

            /* a request always gets an answer */

            if (rc == NGX_OK && *slot == NULL) {
                *slot = ngx_http_mcp_error(msg.id,
                                           NGX_HTTP_MCP_INTERNAL_ERROR,
                                           "Internal error");
                rc = *slot ? NGX_OK : NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            if (rc != NGX_OK) {
                ngx_http_finalize_request(r, rc);
                return;
            }

            break;

        case NGX_HTTP_MCP_MSG_INVALID:
            *ngx_snprintf((u_char *) text, sizeof(text) - 1,
                          "Invalid Request: %s", msg.error) = '\0';

            ctx->responses[ctx->next++] =
                ngx_http_mcp_error(msg.id, NGX_HTTP_MCP_INVALID_REQUEST, text);
            break;

        default:
            /* notifications and responses need no answer */
            ctx->next++;
            break;
        }
    }

    ngx_http_finalize_request(r, ngx_http_mcp_finish(r, ctx));
}


static ngx_int_t
ngx_http_mcp_request(ngx_http_mcp_ctx_t *ctx, ngx_http_mcp_msg_t *msg,
    json_t **slot)
{
    ngx_str_t                *missing;
    ngx_array_t              *tools;
    json_t                   *result, *args, *empty;
    ngx_int_t                 rc;
    ngx_http_request_t       *r;
    ngx_http_mcp_tool_t      *tool;
    ngx_http_mcp_loc_conf_t  *mlcf;
    char                      err[NGX_HTTP_MCP_ERRLEN];
    u_char                    text[NGX_HTTP_MCP_ERRLEN * 2];

    r = ctx->request;
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mcp request \"%V\" in session %V",
                   &msg->method, &ctx->session_id);

    if (msg->params && !json_is_object(msg->params)) {
        *slot = ngx_http_mcp_error(msg->id, NGX_HTTP_MCP_INVALID_PARAMS,
                                   "Invalid params: \"params\" must be "
                                   "an object");
        return NGX_OK;
    }

    if (ngx_http_mcp_method_is(msg, "ping")) {
        *slot = ngx_http_mcp_response(msg->id, json_object());
        return NGX_OK;
    }

    if (ctx->version == NGX_HTTP_MCP_V_UNKNOWN) {

        /* a legacy session, between its stream and its initialize */

        if (ngx_http_mcp_method_is(msg, "initialize")) {
            return ngx_http_mcp_legacy_initialize(ctx, msg, slot);
        }

        *slot = ngx_http_mcp_error(msg->id, NGX_HTTP_MCP_INVALID_REQUEST,
                                   "Invalid Request: the session is not "
                                   "initialized; send initialize first");
        return NGX_OK;
    }

    if (ngx_http_mcp_method_is(msg, "tools/list")) {
        tools = ngx_http_mcp_visible_tools(ctx, mlcf->tools);
        if (tools == NULL && mlcf->tools) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        result = ngx_http_mcp_tools_list(r->pool, tools, msg->params,
                                         mlcf->tools_page_size, ctx->version,
                                         err);
        if (result == NULL) {
            *slot = ngx_http_mcp_error(msg->id, NGX_HTTP_MCP_INVALID_PARAMS,
                                       err);
            return NGX_OK;
        }

        *slot = ngx_http_mcp_response(msg->id, result);
        return NGX_OK;
    }

    if (ngx_http_mcp_method_is(msg, "tools/call")) {
        tool = ngx_http_mcp_tool_find(mlcf->tools, msg->params, &args, err);

        if (tool == NULL) {
            *slot = ngx_http_mcp_error(msg->id, NGX_HTTP_MCP_INVALID_PARAMS,
                                       err);
            return NGX_OK;
        }

        ctx->tool = tool->name;

        missing = ngx_http_mcp_missing_scope(ctx, tool);

        if (missing) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "mcp: client \"%V\" lacks scope \"%V\" for "
                          "tool \"%V\"", &ctx->client, missing, &tool->name);

            *ngx_snprintf(text, sizeof(text) - 1,
                          "Forbidden: tool \"%V\" requires the scope "
                          "\"%V\"", &tool->name, missing) = '\0';

            *slot = ngx_http_mcp_error(msg->id, NGX_HTTP_MCP_FORBIDDEN,
                                       (char *) text);
            ctx->denied = tool->scopes;
            ctx->tool_status = NGX_HTTP_MCP_OUTCOME_DENIED + 1;
            ngx_http_mcp_metrics_tool(tool, NGX_HTTP_MCP_OUTCOME_DENIED, 0);
            return NGX_OK;
        }

        if (tool->input_schema) {
            empty = args ? NULL : json_object();

            rc = ngx_http_mcp_schema_check(tool->input_schema,
                                           args ? args : empty,
                                           "arguments", err);
            json_decref(empty);

            if (rc != NGX_OK) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "mcp: tool \"%V\": invalid %s",
                              &tool->name, err);

                ctx->tool_status = NGX_HTTP_MCP_OUTCOME_INVALID + 1;
                ngx_http_mcp_metrics_tool(tool, NGX_HTTP_MCP_OUTCOME_INVALID,
                                          0);

                /*
                 * 2025-11-25 reports input validation errors as tool
                 * execution errors, so the model can correct itself;
                 * earlier revisions as invalid params.
                 */

                if (ctx->version >= NGX_HTTP_MCP_V_2025_11_25) {
                    *ngx_snprintf(text, sizeof(text) - 1,
                                  "Invalid %s", err) = '\0';
                    *slot = ngx_http_mcp_response(msg->id,
                                ngx_http_mcp_tool_error(r->pool, text,
                                    ngx_strlen(text)));

                } else {
                    *ngx_snprintf(text, sizeof(text) - 1,
                                  "Invalid params: %s", err) = '\0';
                    *slot = ngx_http_mcp_error(msg->id,
                                               NGX_HTTP_MCP_INVALID_PARAMS,
                                               (char *) text);
                }

                return NGX_OK;
            }
        }

        rc = ngx_http_mcp_tool_call(ctx, tool, msg->id, args, slot);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_AGAIN;
    }

    if (ngx_http_mcp_method_is(msg, "initialize")) {
        *slot = ngx_http_mcp_error(msg->id, NGX_HTTP_MCP_INVALID_REQUEST,
                                   "Invalid Request: the session is "
                                   "already initialized");
        return NGX_OK;
    }

    *slot = ngx_http_mcp_error(msg->id, NGX_HTTP_MCP_METHOD_NOT_FOUND,
                               "Method not found");

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_finish(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    json_t      *out;
    ngx_int_t    rc;
    ngx_uint_t   i;

    if (!ctx->batch) {
        out = json_incref(ctx->responses[0]);

    } else {
        out = json_array();
        if (out == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        for (i = 0; i < ctx->nmessages; i++) {
            if (ctx->responses[i]) {
                json_array_append(out, ctx->responses[i]);
            }
        }

        if (json_array_size(out) == 0) {
            json_decref(out);
            out = NULL;
        }
    }

    if (out == NULL) {
        /* only notifications or responses: 202 with no body */
        return ngx_http_mcp_send_empty(r, NGX_HTTP_ACCEPTED);
    }

    if (ctx->legacy) {
        /* HTTP with SSE: the answer goes on the stream, the POST gets 202 */
        rc = ngx_http_mcp_deliver(r, ctx, out);

    } else if (ctx->denied && ctx->oauth && !ctx->batch) {

        /*
         * A token short of a tool's scope (MCP authorization, 2025-11-25,
         * scope challenge): 403 names the scopes needed, so that the
         * client may ask the authorization server for them; the body
         * says which one is missing.
         */

        rc = ngx_http_mcp_auth_insufficient(r, ctx->denied);

        rc = (rc == NGX_OK)
             ? ngx_http_mcp_send_json(r, NGX_HTTP_FORBIDDEN, out)
             : NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else {
        rc = ngx_http_mcp_send_json(r, NGX_HTTP_OK, out);
    }

    json_decref(out);

    return rc;
}


static ngx_int_t
ngx_http_mcp_delete(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_http_mcp_ctx_t  *ctx;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    /* Streamable HTTP, session management: the client ends its session */

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    if (ngx_http_mcp_session_header(r, ctx, &rc) != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mcp_delete_session(r, ctx);

    if (rc == NGX_AGAIN) {
        ctx->resume = ngx_http_mcp_delete_session;
        r->main->count++;
        return NGX_DONE;
    }

    return rc;
}


static ngx_int_t
ngx_http_mcp_delete_session(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_str_t                     reason;
    ngx_pid_t                     stream;
    ngx_http_mcp_main_conf_t     *mmcf;
    ngx_http_mcp_session_info_t   info;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    /*
     * A session made on another host is found through Redis first; and
     * in an outage the end of a session could not reach the other hosts,
     * which would keep it, so it is refused.
     */

    if (mmcf->redis && ngx_http_mcp_redis_state(&reason) != NGX_OK) {
        return ngx_http_mcp_unavailable(r, "Service Unavailable: the "
                                        "session store cannot be reached");
    }

    rc = ngx_http_mcp_session_lookup(r, ctx, &info);

    if (rc == NGX_AGAIN) {
        return NGX_AGAIN;
    }

    if (rc == NGX_BUSY) {
        return ngx_http_mcp_unavailable(r, "Service Unavailable: the "
                                        "session store cannot be reached");
    }

    /* HTTP with SSE sessions end with their stream, not by DELETE */

    if (rc != NGX_OK
        || !ngx_http_mcp_client_owns(ctx, &info)
        || info.legacy
        || ngx_http_mcp_session_delete(mmcf->session_zone, &ctx->session_id,
                                       &stream)
           != NGX_OK)
    {
        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_NOT_FOUND,
                                   NGX_HTTP_MCP_SESSION_NOT_FOUND,
                                   "Session not found");
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp: session %V ended by the client", &ctx->session_id);

    /* other hosts see it gone at their next check */

    (void) ngx_http_mcp_redis_session_del(&ctx->session_id, NULL, NULL, NULL);

    ngx_http_mcp_stream_end(r, &ctx->session_id, stream);

    if (stream == 0) {
        ngx_http_mcp_redis_close_remote(&ctx->session_id);
    }

    return ngx_http_mcp_send_empty(r, NGX_HTTP_OK);
}


static ngx_int_t
ngx_http_mcp_get(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_http_mcp_ctx_t  *ctx;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    /* Streamable HTTP, listening for messages from the server */

    if (r->headers_in.content_length_n > 0 || r->headers_in.chunked) {
        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                   NGX_HTTP_MCP_TRANSPORT_ERROR,
                                   "Bad Request: a GET carries no body");
    }

    if (ngx_exiting || ngx_terminate) {
        /* this worker is on its way out: the next one will take it */

        if (ngx_http_mcp_header_out(r, "Retry-After", "1") == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   NGX_HTTP_MCP_TRANSPORT_ERROR,
                                   "Service Unavailable: shutting down");
    }

    if (!ngx_http_mcp_accepts(r, "text/event-stream")) {
        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_MCP_NOT_ACCEPTABLE,
                                   NGX_HTTP_MCP_TRANSPORT_ERROR,
                                   "Not Acceptable: the client must accept "
                                   "text/event-stream");
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    /*
     * No session, and not a Streamable HTTP client (those name their
     * revision from 2025-06-18 on): an HTTP with SSE client (2024-11-05).
     */

    if (ngx_http_mcp_session_id(r, &ctx->session_id) == NGX_DECLINED
        && ngx_http_mcp_header(r, "mcp-protocol-version",
                               sizeof("mcp-protocol-version") - 1)
           == NULL)
    {
        return ngx_http_mcp_legacy_open(r, ctx);
    }

    rc = ngx_http_mcp_get_session(r, ctx);

    if (rc == NGX_AGAIN) {
        /* asking Redis: the request waits */
        ctx->resume = ngx_http_mcp_get_session;
        r->main->count++;
        return NGX_DONE;
    }

    return rc;
}


static ngx_int_t
ngx_http_mcp_get_session(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    uint32_t                   serial;
    ngx_int_t                  rc, sent;
    ngx_http_mcp_loc_conf_t   *mlcf;
    ngx_http_mcp_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    rc = ngx_http_mcp_session(r, ctx, &sent);

    if (rc != NGX_OK) {
        return (rc == NGX_AGAIN) ? NGX_AGAIN : sent;
    }

    rc = ngx_http_mcp_session_stream_claim(mmcf->session_zone,
                                           &ctx->session_id, ngx_pid,
                                           &serial);

    if (rc == NGX_DECLINED) {
        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_NOT_FOUND,
                                   NGX_HTTP_MCP_SESSION_NOT_FOUND,
                                   "Session not found");
    }

    if (rc == NGX_BUSY) {
        return ngx_http_mcp_conflict(r);
    }

    ctx->serial = serial;

    /* one stream per session on all hosts: Redis has the last word */

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    if (ngx_http_mcp_redis_owner_claim(&ctx->session_id,
                                       NGX_HTTP_MCP_SSE_OWNER_TTL(mlcf),
                                       ngx_http_mcp_get_claimed, ctx,
                                       &ctx->redis)
        == NGX_OK)
    {
        r->main->count++;
        return NGX_DONE;
    }

    return ngx_http_mcp_get_open(r, ctx);
}


static void
ngx_http_mcp_get_claimed(void *data, void *r)
{
    ngx_http_mcp_ctx_t  *ctx = data;

    redisReply  *reply = r;

    ngx_int_t                  rc;
    ngx_connection_t          *c;
    ngx_http_request_t        *req;
    ngx_http_mcp_main_conf_t  *mmcf;

    req = ctx->request;
    c = req->connection;
    ctx->redis = NULL;

    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
        /* another host holds the session's stream */

        mmcf = ngx_http_get_module_main_conf(req, ngx_http_mcp_module);
        ngx_http_mcp_session_stream_release(mmcf->session_zone,
                                            &ctx->session_id, ngx_pid);
        rc = ngx_http_mcp_conflict(req);

    } else {
        /* claimed, or Redis did not answer: this host decides */
        rc = ngx_http_mcp_get_open(req, ctx);
    }

    ngx_http_finalize_request(req, rc);
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_mcp_get_open(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t                  rc;
    ngx_http_mcp_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    rc = ngx_http_mcp_sse_open(r, ctx, ctx->serial, NULL);

    if (rc != NGX_DONE && ctx->stream == NULL) {
        ngx_http_mcp_session_stream_release(mmcf->session_zone,
                                            &ctx->session_id, ngx_pid);
        ngx_http_mcp_redis_owner_release(&ctx->session_id, 0);
    }

    return rc;
}


static ngx_int_t
ngx_http_mcp_conflict(ngx_http_request_t *r)
{
    return ngx_http_mcp_reject(r, NULL, NGX_HTTP_CONFLICT,
                               NGX_HTTP_MCP_TRANSPORT_ERROR,
                               "Conflict: the session already has "
                               "a stream open");
}


static ngx_int_t
ngx_http_mcp_legacy_open(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    u_char                       *id;
    ngx_int_t                     rc;
    ngx_http_mcp_loc_conf_t      *mlcf;
    ngx_http_mcp_main_conf_t     *mmcf;
    ngx_http_mcp_session_info_t   info;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);
    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    /*
     * HTTP with SSE (2024-11-05): the stream comes first and is the
     * session; it lives in this worker, and initialize comes by POST.
     */

    id = ngx_pnalloc(r->pool, NGX_HTTP_MCP_SESSION_ID_LEN);
    if (id == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    info.version = NGX_HTTP_MCP_V_UNKNOWN;
    info.legacy = 1;
    ngx_http_mcp_client_copy(ctx, &info);
    info.stream = ngx_pid;

    info.max_per_client = mlcf->max_client_sessions;

    rc = ngx_http_mcp_session_create(mmcf->session_zone, &info, id,
                                     r->connection->log);

    if (rc == NGX_ABORT) {
        return ngx_http_mcp_too_many_sessions(r);
    }

    if (rc == NGX_BUSY) {
        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   NGX_HTTP_MCP_TRANSPORT_ERROR,
                                   "Service Unavailable: no room for "
                                   "a new session");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->session_id.data = id;
    ctx->session_id.len = NGX_HTTP_MCP_SESSION_ID_LEN;
    ctx->legacy = 1;
    ctx->opening = 1;

    /*
     * With Redis, every host learns the session and where its stream is
     * before the client learns where to POST.
     */

    if (ngx_http_mcp_redis_session_set(&ctx->session_id, &info, NULL, NULL,
                                       NULL)
        == NGX_OK
        && ngx_http_mcp_redis_owner_set(&ctx->session_id, 0,
                                        NGX_HTTP_MCP_SSE_OWNER_TTL(mlcf),
                                        ngx_http_mcp_legacy_registered, ctx,
                                        &ctx->redis)
           == NGX_OK)
    {
        r->main->count++;
        return NGX_DONE;
    }

    return ngx_http_mcp_legacy_stream(r, ctx);
}


static void
ngx_http_mcp_legacy_registered(void *data, void *reply)
{
    ngx_http_mcp_ctx_t  *ctx = data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;
    ctx->redis = NULL;

    /* without an answer the session is this host's only */

    ngx_http_finalize_request(r, ngx_http_mcp_legacy_stream(r, ctx));
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_mcp_legacy_stream(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t   rc;
    ngx_str_t   endpoint;

    if (ngx_http_mcp_endpoint(r, &ctx->session_id, &endpoint) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_mcp_sse_open(r, ctx, 1, &endpoint);

    if (ctx->stream) {
        /* the stream's end ends the session from now on */
        ctx->opening = 0;
    }

    return rc;
}


static ngx_int_t
ngx_http_mcp_endpoint(ngx_http_request_t *r, ngx_str_t *id, ngx_str_t *url)
{
    u_char                   *p, *q;
    size_t                    escape;
    ngx_str_t                 base, path;
    ngx_http_mcp_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    /*
     * The URL the client POSTs to: mcp_public_base (a prefix the client
     * sees and nginx does not), then mcp_sse_endpoint or the stream's
     * own path, then the session.  Clients resolve it against the
     * stream's URL, so a path alone is right on any host and port.
     */

    ngx_str_null(&base);
    ngx_str_null(&path);

    if (mlcf->sse_endpoint) {
        if (ngx_http_complex_value(r, mlcf->sse_endpoint, &path) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ngx_http_mcp_url_check(r, &path, "mcp_sse_endpoint") != NGX_OK
            || path.len == 0)
        {
            ngx_str_null(&path);
        }
    }

    if (path.len == 0) {
        /* the stream's path, as one absolute path, escaped */

        p = r->uri.data;
        q = r->uri.data + r->uri.len;

        while (q - p > 1 && p[0] == '/' && p[1] == '/') {
            p++;
        }

        escape = 2 * ngx_escape_uri(NULL, p, q - p, NGX_ESCAPE_URI);

        path.data = ngx_pnalloc(r->pool, (q - p) + escape);
        if (path.data == NULL) {
            return NGX_ERROR;
        }

        path.len = (u_char *) ngx_escape_uri(path.data, p, q - p,
                                             NGX_ESCAPE_URI)
                   - path.data;
    }

    if (mlcf->public_base && path.data[0] == '/') {
        if (ngx_http_complex_value(r, mlcf->public_base, &base) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ngx_http_mcp_url_check(r, &base, "mcp_public_base") != NGX_OK) {
            ngx_str_null(&base);
        }

        while (base.len && base.data[base.len - 1] == '/') {
            base.len--;
        }
    }

    url->len = base.len + path.len + sizeof("?sessionId=") - 1 + id->len;

    url->data = ngx_pnalloc(r->pool, url->len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url->data, base.data, base.len);
    p = ngx_cpymem(p, path.data, path.len);
    *p++ = ngx_strlchr(path.data, path.data + path.len, '?') ? '&' : '?';
    p = ngx_cpymem(p, "sessionId=", sizeof("sessionId=") - 1);
    ngx_memcpy(p, id->data, id->len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_url_check(ngx_http_request_t *r, ngx_str_t *value,
    const char *directive)
{
    u_char  *p;

    /*
     * The value may come from a request header: it must be a path or an
     * http(s) URL of visible characters, or it would break the event or
     * send the client elsewhere.
     */

    if (value->len == 0) {
        return NGX_OK;
    }

    for (p = value->data; p < value->data + value->len; p++) {
        if (*p < 0x21 || *p > 0x7e) {
            goto invalid;
        }
    }

    if (value->data[0] == '/') {
        if (value->len > 1 && (value->data[1] == '/'
                               || value->data[1] == '\\'))
        {
            goto invalid;
        }

        return NGX_OK;
    }

    if ((value->len > 7
         && ngx_strncasecmp(value->data, (u_char *) "http://", 7) == 0)
        || (value->len > 8
            && ngx_strncasecmp(value->data, (u_char *) "https://", 8) == 0))
    {
        return NGX_OK;
    }

invalid:

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "mcp: %s \"%*s\" is not a path or an http(s) URL, "
                  "ignored", directive, ngx_min(value->len, 128),
                  value->data);

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_mcp_legacy_session_id(ngx_http_request_t *r, ngx_str_t *id)
{
    u_char     *p;
    ngx_str_t   value;

    if (ngx_http_arg(r, (u_char *) "sessionId", sizeof("sessionId") - 1,
                     &value)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* ours are 32 hex digits; anything else cannot be a session */

    if (value.len == 0 || value.len > NGX_HTTP_MCP_SESSION_ID_MAX) {
        return NGX_ERROR;
    }

    for (p = value.data; p < value.data + value.len; p++) {
        if (*p < 0x21 || *p > 0x7e) {
            return NGX_ERROR;
        }
    }

    *id = value;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_legacy_initialize(ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_msg_t *msg, json_t **slot)
{
    json_t                       *result;
    ngx_int_t                     rc;
    ngx_uint_t                    version;
    ngx_http_request_t           *r;
    ngx_http_mcp_loc_conf_t      *mlcf;
    ngx_http_mcp_main_conf_t     *mmcf;
    ngx_http_mcp_session_info_t   info;

    r = ctx->request;
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);
    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    if (!json_is_object(msg->params)
        || !json_is_string(json_object_get(msg->params, "protocolVersion")))
    {
        *slot = ngx_http_mcp_error(msg->id, NGX_HTTP_MCP_INVALID_PARAMS,
                                   "Invalid params: initialize needs "
                                   "a \"protocolVersion\" string");
        return NGX_OK;
    }

    version = ngx_http_mcp_version_negotiate(msg->params,
                                             NGX_HTTP_MCP_V_OLDEST);

    rc = ngx_http_mcp_session_initialize(mmcf->session_zone,
                                         &ctx->session_id, version);

    if (rc == NGX_BUSY) {
        *slot = ngx_http_mcp_error(msg->id, NGX_HTTP_MCP_INVALID_REQUEST,
                                   "Invalid Request: the session is "
                                   "already initialized");
        return NGX_OK;
    }

    /* a session gone meanwhile fails at delivery, with 410 */

    ctx->version = version;

    /* every host learns the revision before the client does */

    info.version = version;
    info.legacy = 1;
    ngx_http_mcp_client_copy(ctx, &info);

    (void) ngx_http_mcp_redis_session_set(&ctx->session_id, &info, NULL,
                                          NULL, NULL);

    result = ngx_http_mcp_initialize_result(version, &mlcf->server_name,
                                            &mlcf->server_version,
                                            &mlcf->instructions);

    *slot = ngx_http_mcp_response(msg->id, result);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp: legacy session %V initialized, protocol %V",
                  &ctx->session_id, ngx_http_mcp_version_name(version));

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_deliver(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    json_t *json)
{
    size_t                        len;
    u_char                       *data;
    ngx_int_t                     rc;
    ngx_pid_t                     pid;
    ngx_http_mcp_main_conf_t     *mmcf;
    ngx_http_mcp_session_info_t   info;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    /* a server message for the session's stream, wherever it is held */

    len = json_dumpb(json, NULL, 0, JSON_COMPACT);

    data = ngx_pnalloc(r->pool, len ? len : 1);
    if (data == NULL || len == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    (void) json_dumpb(json, (char *) data, len, JSON_COMPACT);

    if (ngx_http_mcp_session_find(mmcf->session_zone, &ctx->session_id,
                                  &info)
        != NGX_OK)
    {
        return ngx_http_mcp_delivered(r, ctx, NGX_DECLINED);
    }

    if (info.stream == 0) {
        if (mmcf->redis == NULL) {
            return ngx_http_mcp_delivered(r, ctx, NGX_DECLINED);
        }

        /* no stream on this host: Redis says which host holds it */

        ctx->delivery.data = data;
        ctx->delivery.len = len;
        ctx->legacy = info.legacy;

        ctx->owner.data = ngx_pnalloc(r->pool, NGX_HTTP_MCP_OWNER_LEN);
        if (ctx->owner.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* a busy session asks Redis once a second, not per message */

        if (ngx_http_mcp_session_owner(mmcf->session_zone, &ctx->session_id,
                                       ctx->owner.data, &ctx->owner.len,
                                       NGX_HTTP_MCP_REDIS_CHECK)
            == NGX_OK)
        {
            rc = ngx_http_mcp_deliver_remote(r, ctx);

            if (rc == NGX_AGAIN) {
                r->main->count++;
                return NGX_DONE;
            }

            return ngx_http_mcp_delivered(r, ctx, rc);
        }

        rc = ngx_http_mcp_redis_owner_get(&ctx->session_id,
                                          ngx_http_mcp_owner_found, ctx,
                                          &ctx->redis);
        if (rc != NGX_OK) {
            /* it may be on another host, which cannot be reached now */
            return ngx_http_mcp_delivered(r, ctx, NGX_BUSY);
        }

        r->main->count++;
        return NGX_DONE;
    }

    if (info.stream == ngx_pid) {
        rc = ngx_http_mcp_sse_deliver(&ctx->session_id, data, len);

        if (rc == NGX_OK) {
            ngx_http_mcp_session_count(mmcf->session_zone,
                                       NGX_HTTP_MCP_DELIVERED_LOCAL);
        }

        return ngx_http_mcp_delivered(r, ctx, rc);
    }

    rc = ngx_http_mcp_ipc_send(info.stream, NGX_HTTP_MCP_IPC_DELIVER,
                               &ctx->session_id, data, len,
                               ngx_http_mcp_delivery_done, ctx, &ctx->ipc);

    if (rc == NGX_AGAIN) {
        /* the POST waits for the other worker's answer */
        r->main->count++;
        return NGX_DONE;
    }

    if (rc == NGX_DECLINED) {
        /* the worker holding the stream is gone, and so is the stream */

        if (info.legacy) {
            (void) ngx_http_mcp_session_delete(mmcf->session_zone,
                                               &ctx->session_id, &pid);

        } else {
            ngx_http_mcp_session_stream_release(mmcf->session_zone,
                                                &ctx->session_id,
                                                info.stream);
        }
    }

    return ngx_http_mcp_delivered(r, ctx, rc);
}


static void
ngx_http_mcp_owner_found(void *data, void *reply)
{
    ngx_http_mcp_ctx_t  *ctx = data;

    ngx_int_t                  rc;
    ngx_pid_t                  pid;
    ngx_str_t                  owner;
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_mcp_main_conf_t  *mmcf;

    r = ctx->request;
    c = r->connection;
    ctx->redis = NULL;

    rc = ngx_http_mcp_redis_owner(reply, &owner, &pid);

    if (rc == NGX_OK && owner.len <= NGX_HTTP_MCP_OWNER_LEN) {
        ngx_memcpy(ctx->owner.data, owner.data, owner.len);
        ctx->owner.len = owner.len;

        mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);
        ngx_http_mcp_session_set_owner(mmcf->session_zone, &ctx->session_id,
                                       &ctx->owner);

        rc = ngx_http_mcp_deliver_remote(r, ctx);

        if (rc == NGX_AGAIN) {
            /* still waiting, on the same reference */
            return;
        }

    } else if (rc != NGX_DECLINED || ngx_http_mcp_redis_settling()) {
        /* no answer, or one not to be believed yet */
        rc = NGX_BUSY;
    }

    ngx_http_finalize_request(r, ngx_http_mcp_delivered(r, ctx, rc));
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_mcp_deliver_remote(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_pid_t  pid;

    pid = ngx_http_mcp_redis_owner_pid(&ctx->owner);

    if (pid) {
        /* on this host after all, in another worker */

        return ngx_http_mcp_ipc_send(pid, NGX_HTTP_MCP_IPC_DELIVER,
                                     &ctx->session_id, ctx->delivery.data,
                                     ctx->delivery.len,
                                     ngx_http_mcp_delivery_done, ctx,
                                     &ctx->ipc);
    }

    ctx->via_redis = 1;

    return ngx_http_mcp_redis_send(&ctx->owner, NGX_HTTP_MCP_IPC_DELIVER,
                                   &ctx->session_id, ctx->delivery.data,
                                   ctx->delivery.len,
                                   ngx_http_mcp_delivery_done, ctx,
                                   &ctx->msg);
}


static void
ngx_http_mcp_delivery_done(void *data, ngx_int_t rc)
{
    ngx_http_mcp_ctx_t  *ctx = data;

    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_mcp_main_conf_t  *mmcf;

    r = ctx->request;
    c = r->connection;
    ctx->ipc = NULL;
    ctx->msg = NULL;

    if (rc == NGX_OK) {
        mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);
        ngx_http_mcp_session_count(mmcf->session_zone,
                                   ctx->via_redis
                                   ? NGX_HTTP_MCP_DELIVERED_REDIS
                                   : NGX_HTTP_MCP_DELIVERED_IPC);
    }

    ngx_http_finalize_request(r, ngx_http_mcp_delivered(r, ctx, rc));
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_mcp_delivered(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    ngx_int_t rc)
{
    ngx_pid_t                  pid;
    ngx_http_mcp_main_conf_t  *mmcf;

    /* 202 means the message is on the stream; anything else says why not */

    if (rc == NGX_OK) {
        return ngx_http_mcp_send_empty(r, NGX_HTTP_ACCEPTED);
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);
    ngx_http_mcp_session_count(mmcf->session_zone,
                               NGX_HTTP_MCP_DELIVERY_FAILED);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mcp: a message for session %V was not delivered",
                  &ctx->session_id);

    if (ctx->owner.len
        && (rc == NGX_DECLINED || rc == NGX_HTTP_MCP_NOBODY))
    {
        /* what Redis said of the stream is no longer so */
        ngx_http_mcp_session_set_owner(mmcf->session_zone, &ctx->session_id,
                                       NULL);
    }

    if (rc == NGX_HTTP_MCP_NOBODY && ngx_http_mcp_redis_settling()) {
        /* the holding worker may not have subscribed again yet */
        rc = NGX_BUSY;
    }

    if (rc == NGX_HTTP_MCP_NOBODY) {

        /*
         * The worker holding the stream is gone, and its stream with it;
         * a legacy session, which was the stream, is gone everywhere.
         */

        ngx_http_mcp_redis_owner_forget(&ctx->session_id, &ctx->owner,
                                        ctx->legacy);

        if (ctx->legacy) {
            (void) ngx_http_mcp_session_delete(mmcf->session_zone,
                                               &ctx->session_id, &pid);

            return ngx_http_mcp_reject(r, NULL, NGX_HTTP_NOT_FOUND,
                                       NGX_HTTP_MCP_SESSION_NOT_FOUND,
                                       "Session not found");
        }

        rc = NGX_DECLINED;
    }

    switch (rc) {

    case NGX_DECLINED:
        if (ctx->notify) {
            return ngx_http_mcp_reject(r, NULL, NGX_HTTP_CONFLICT,
                                       NGX_HTTP_MCP_TRANSPORT_ERROR,
                                       "Conflict: the session has no "
                                       "stream open");
        }

        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_MCP_GONE,
                                   NGX_HTTP_MCP_SESSION_NOT_FOUND,
                                   "Gone: the session's stream closed "
                                   "before the answer could be delivered");

    case NGX_BUSY:
        if (ngx_http_mcp_header_out(r, "Retry-After", "1") == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   NGX_HTTP_MCP_TRANSPORT_ERROR,
                                   "Service Unavailable: the worker "
                                   "holding the stream is too busy");

    case NGX_ABORT:
        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_GATEWAY_TIME_OUT,
                                   NGX_HTTP_MCP_TRANSPORT_ERROR,
                                   "Gateway Timeout: the worker holding "
                                   "the stream did not confirm delivery");

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


ngx_int_t
ngx_http_mcp_notify_handler(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_http_mcp_ctx_t  *ctx;

    if (r != r->main) {
        return NGX_HTTP_NOT_FOUND;
    }

    ctx = ngx_http_mcp_ctx_create(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->error_page = 1;
    ctx->notify = 1;

    /* a tool backend pushes a notification to a session's stream */

    if (r->method != NGX_HTTP_POST) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        if (ngx_http_mcp_header_out(r, "Allow", "POST") == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_NOT_ALLOWED,
                                   NGX_HTTP_MCP_TRANSPORT_ERROR,
                                   "Method Not Allowed: use POST");
    }

    return ngx_http_mcp_read_json(r, ngx_http_mcp_notify_body);
}


static void
ngx_http_mcp_notify_body(ngx_http_request_t *r)
{
    json_t                   *json;
    ngx_int_t                 rc;
    ngx_str_t                 body;
    ngx_http_mcp_msg_t        msg;
    ngx_http_mcp_ctx_t       *ctx;
    ngx_http_mcp_loc_conf_t  *mlcf;
    char                      err[NGX_HTTP_MCP_ERRLEN];
    u_char                    text[NGX_HTTP_MCP_ERRLEN * 2];

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    rc = ngx_http_mcp_read_body(r, &body);

    if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        rc = ngx_http_mcp_reject(r, NULL, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Request body exceeds mcp_max_body_size");
        goto done;
    }

    if (rc != NGX_OK) {
        goto done;
    }

    if (ngx_http_mcp_session_header(r, ctx, &rc) != NGX_OK) {
        goto done;
    }

    json = NULL;

    if (ngx_http_mcp_json_values(body.data, body.len, mlcf->max_json_values)
        == NGX_OK)
    {
        json = ngx_http_mcp_json_parse(body.data, body.len,
                                       mlcf->max_json_depth, err);

    } else {
        *ngx_snprintf((u_char *) err, sizeof(err) - 1,
                      "more than %ui JSON values", mlcf->max_json_values)
            = '\0';
    }

    if (json == NULL) {
        *ngx_snprintf(text, sizeof(text) - 1, "Parse error: %s", err) = '\0';
        rc = ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                 NGX_HTTP_MCP_PARSE_ERROR, (char *) text);
        goto done;
    }

    ctx->body = json;

    ngx_http_mcp_msg_classify(json, &msg);

    if (msg.kind != NGX_HTTP_MCP_MSG_NOTIFICATION) {
        rc = ngx_http_mcp_reject(r, NULL, NGX_HTTP_BAD_REQUEST,
                                 NGX_HTTP_MCP_INVALID_REQUEST,
                                 "Invalid Request: only a JSON-RPC "
                                 "notification can be pushed");
        goto done;
    }

    ctx->method = msg.method;

    rc = ngx_http_mcp_notify_session(r, ctx);

    if (rc == NGX_AGAIN) {
        /* asking Redis: the request waits */
        ctx->resume = ngx_http_mcp_notify_session;
        r->main->count++;
        rc = NGX_DONE;
    }

done:

    /* NGX_DONE: waiting for Redis or the worker that holds the stream */

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_mcp_notify_session(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_http_mcp_session_info_t   info;

    rc = ngx_http_mcp_session_lookup(r, ctx, &info);

    switch (rc) {

    case NGX_OK:
        return ngx_http_mcp_deliver(r, ctx, ctx->body);

    case NGX_AGAIN:
        return NGX_AGAIN;

    case NGX_BUSY:
        return ngx_http_mcp_unavailable(r, "Service Unavailable: the "
                                        "session store cannot be reached");

    default:
        return ngx_http_mcp_reject(r, NULL, NGX_HTTP_NOT_FOUND,
                                   NGX_HTTP_MCP_SESSION_NOT_FOUND,
                                   "Session not found");
    }
}


static ngx_int_t
ngx_http_mcp_session_lookup(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_session_info_t *info)
{
    ngx_int_t                  rc, found;
    ngx_str_t                  reason;
    ngx_http_mcp_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    /*
     * The session zone, and with mcp_redis, Redis behind it: a session
     * made on another host is fetched, and a copy here is checked again
     * once it is a second old, so that a session ended elsewhere ends
     * here too.  NGX_BUSY: it may exist, but Redis cannot say now.
     */

    found = (ngx_http_mcp_session_find(mmcf->session_zone, &ctx->session_id,
                                       info)
             == NGX_OK);

    if (mmcf->redis == NULL || ctx->looked_up) {
        if (!found && ctx->lookup_failed) {
            return NGX_BUSY;
        }

        return found ? NGX_OK : NGX_DECLINED;
    }

    rc = ngx_http_mcp_redis_state(&reason);

    if (found) {

        /*
         * A legacy session not yet initialized may have been initialized
         * through another host: always asked, until it is.
         */

        if (rc == NGX_OK && info->version == NGX_HTTP_MCP_V_UNKNOWN) {
            goto ask;
        }

        if (rc != NGX_OK
            || !info->registered
            || (ngx_msec_int_t) (ngx_current_msec - info->checked)
               < NGX_HTTP_MCP_REDIS_CHECK)
        {
            /* in an outage, or for a session Redis does not hold */
            return NGX_OK;
        }

    } else if (rc != NGX_OK) {
        return NGX_BUSY;
    }

ask:

    rc = ngx_http_mcp_redis_session_get(&ctx->session_id,
                                        ngx_http_mcp_looked_up, ctx,
                                        &ctx->redis);

    if (rc == NGX_OK) {
        return NGX_AGAIN;
    }

    return found ? NGX_OK : NGX_BUSY;
}


static void
ngx_http_mcp_looked_up(void *data, void *reply)
{
    ngx_http_mcp_ctx_t  *ctx = data;

    ngx_int_t                     rc;
    ngx_pid_t                     stream;
    ngx_connection_t             *c;
    ngx_http_request_t           *r;
    ngx_http_mcp_main_conf_t     *mmcf;
    ngx_http_mcp_session_info_t   info;

    r = ctx->request;
    c = r->connection;
    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    ctx->redis = NULL;
    ctx->looked_up = 1;

    ngx_memzero(&info, sizeof(ngx_http_mcp_session_info_t));

    switch (ngx_http_mcp_redis_session_parse(reply, &info)) {

    case NGX_OK:
        rc = ngx_http_mcp_session_import(mmcf->session_zone,
                                         &ctx->session_id, &info, c->log);
        if (rc == NGX_BUSY) {
            ctx->lookup_failed = 1;
        }

        break;

    case NGX_DECLINED:

        if (ngx_http_mcp_redis_settling()) {
            /* a copy here serves until every host registered again */
            ctx->lookup_failed = 1;
            break;
        }

        /* ended on another host, or expired: here too */

        if (ngx_http_mcp_session_delete(mmcf->session_zone, &ctx->session_id,
                                        &stream)
            == NGX_OK)
        {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "mcp: session %V ended elsewhere",
                          &ctx->session_id);

            ngx_http_mcp_stream_end(r, &ctx->session_id, stream);
        }

        break;

    default:
        /* no answer: a copy here serves, none means "cannot say" */
        ctx->lookup_failed = 1;
        break;
    }

    ngx_http_mcp_resume(ctx);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_mcp_stream_end(ngx_http_request_t *r, ngx_str_t *id,
    ngx_pid_t stream)
{
    ngx_http_mcp_ipc_t  *ipc;

    /* a session's stream ends with it, here or in the worker holding it */

    if (stream == ngx_pid) {
        (void) ngx_http_mcp_sse_close_session(id);

    } else if (stream != 0) {
        (void) ngx_http_mcp_ipc_send(stream, NGX_HTTP_MCP_IPC_CLOSE_STREAM,
                                     id, NULL, 0, NULL, NULL, &ipc);
    }
}


static ngx_int_t
ngx_http_mcp_unavailable(ngx_http_request_t *r, const char *message)
{
    if (ngx_http_mcp_header_out(r, "Retry-After", "1") == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mcp_reject(r, NULL, NGX_HTTP_SERVICE_UNAVAILABLE,
                               NGX_HTTP_MCP_TRANSPORT_ERROR, message);
}


static ngx_int_t
ngx_http_mcp_send_empty(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_int_t  rc;

    r->headers_out.status = status;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    return ngx_http_send_special(r, NGX_HTTP_LAST);
}


static ngx_int_t
ngx_http_mcp_reject(ngx_http_request_t *r, json_t *id, ngx_uint_t status,
    ngx_int_t code, const char *message)
{
    json_t     *json;
    ngx_int_t   rc;

    json = ngx_http_mcp_error(id, code, message);
    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_mcp_send_json(r, status, json);
    json_decref(json);

    return rc;
}


ngx_int_t
ngx_http_mcp_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    size_t               len;
    ngx_int_t            rc;
    ngx_buf_t           *b;
    ngx_chain_t          out;
    ngx_http_mcp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    if (ctx != NULL && r == r->main) {
        ctx->replying = 1;
    }

    len = json_dumpb(json, NULL, 0, JSON_COMPACT);

    if (len == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last += json_dumpb(json, (char *) b->pos, len, JSON_COMPACT);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_type = ngx_http_mcp_json_type;
    r->headers_out.content_type_len = ngx_http_mcp_json_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = b->last - b->pos;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_http_mcp_ctx_t *
ngx_http_mcp_error_ctx(ngx_http_request_t *r)
{
    ngx_http_mcp_ctx_t       *ctx;
    ngx_http_mcp_loc_conf_t  *mlcf;

    /*
     * An error answer of nginx's own in an MCP location, such as the 413
     * of a body past the limit, found before or while the handler runs.
     */

    if (r->headers_out.status < NGX_HTTP_BAD_REQUEST) {
        return NULL;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);

    if (!mlcf->enable && !mlcf->notify) {
        return NULL;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mcp_module);

    if (ctx == NULL) {
        ctx = ngx_http_mcp_ctx_create(r);
        if (ctx == NULL) {
            return NULL;
        }
    }

    return ctx->replying ? NULL : ctx;
}


ngx_int_t
ngx_http_mcp_error_page(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx)
{
    size_t       len;
    json_t      *json;
    ngx_int_t    code;
    ngx_buf_t   *b;
    const char  *message;

    /*
     * nginx itself failed the request (a chunked body past the limit
     * found while reading, an internal error): the client still gets a
     * JSON-RPC error, not an HTML page.
     */

    if (r->headers_out.status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        code = NGX_HTTP_MCP_INVALID_REQUEST;
        message = "Request body exceeds mcp_max_body_size";

    } else if (r->headers_out.status == NGX_HTTP_UNAUTHORIZED) {
        code = NGX_HTTP_MCP_TRANSPORT_ERROR;
        message = "Unauthorized: a valid bearer token is required";

    } else if (r->headers_out.status == NGX_HTTP_BAD_REQUEST
               && r->headers_out.www_authenticate)
    {
        code = NGX_HTTP_MCP_TRANSPORT_ERROR;
        message = "Bad Request: malformed bearer token";

    } else if (r->headers_out.status == NGX_HTTP_FORBIDDEN
               && r->headers_out.www_authenticate)
    {
        code = NGX_HTTP_MCP_TRANSPORT_ERROR;
        message = "Forbidden: the token lacks a scope needed here";

    } else if (r->headers_out.status == NGX_HTTP_FORBIDDEN) {
        code = NGX_HTTP_MCP_TRANSPORT_ERROR;
        message = "Forbidden: origin not allowed, or denied here";

    } else {
        code = NGX_HTTP_MCP_INTERNAL_ERROR;
        message = "Internal error";
    }

    json = ngx_http_mcp_error(NULL, code, message);
    if (json == NULL) {
        return NGX_ERROR;
    }

    len = json_dumpb(json, NULL, 0, JSON_COMPACT);

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    if (b == NULL) {
        json_decref(json);
        return NGX_ERROR;
    }

    b->last += json_dumpb(json, (char *) b->pos, len, JSON_COMPACT);
    b->last_buf = 1;
    json_decref(json);

    ctx->error_body = b;

    r->headers_out.content_type = ngx_http_mcp_json_type;
    r->headers_out.content_type_len = ngx_http_mcp_json_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = b->last - b->pos;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return NGX_OK;
}


ngx_table_elt_t *
ngx_http_mcp_header_out(ngx_http_request_t *r, char *key, char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);

    return h;
}


ngx_table_elt_t *
ngx_http_mcp_header(ngx_http_request_t *r, const char *name, size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


static ngx_int_t
ngx_http_mcp_session_id(ngx_http_request_t *r, ngx_str_t *id)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    h = ngx_http_mcp_header(r, "mcp-session-id",
                            sizeof("mcp-session-id") - 1);

    if (h == NULL) {
        return NGX_DECLINED;
    }

    /* session ids are visible ASCII, 0x21 to 0x7e */

    if (h->value.len == 0 || h->value.len > NGX_HTTP_MCP_SESSION_ID_MAX) {
        return NGX_ERROR;
    }

    for (p = h->value.data; p < h->value.data + h->value.len; p++) {
        if (*p < 0x21 || *p > 0x7e) {
            return NGX_ERROR;
        }
    }

    *id = h->value;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_is_json_type(ngx_str_t *value)
{
    u_char  *p, *last;

    if (value->len < ngx_http_mcp_json_type.len
        || ngx_strncasecmp(value->data, ngx_http_mcp_json_type.data,
                           ngx_http_mcp_json_type.len)
           != 0)
    {
        return 0;
    }

    p = value->data + ngx_http_mcp_json_type.len;
    last = value->data + value->len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    return p == last || *p == ';';
}


static ngx_int_t
ngx_http_mcp_accepts(ngx_http_request_t *r, const char *type)
{
    u_char           *p, *last, *start, *end, *slash, *q;
    size_t            tlen, major;
    ngx_int_t         best, specificity, quality;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    /*
     * The most specific media range that matches the type decides,
     * and "q=0" refuses it (RFC 9110, 12.5.1).
     */

    tlen = ngx_strlen(type);
    major = (u_char *) ngx_strchr(type, '/') - (u_char *) type;

    best = -1;
    quality = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != 6
            || ngx_strncasecmp(h[i].key.data, (u_char *) "accept", 6) != 0)
        {
            continue;
        }

        p = h[i].value.data;
        last = p + h[i].value.len;

        while (p < last) {

            while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
                p++;
            }

            start = p;

            while (p < last && *p != ',' && *p != ';' && *p != ' ') {
                p++;
            }

            end = p;

            /* parameters: only q matters */

            q = NULL;

            while (p < last && *p != ',') {
                if ((*p == 'q' || *p == 'Q') && p + 1 < last && p[1] == '='
                    && (p[-1] == ';' || p[-1] == ' ' || p[-1] == '\t'))
                {
                    q = p + 2;
                }

                p++;
            }

            if (end == start) {
                continue;
            }

            slash = ngx_strlchr(start, end, '/');
            if (slash == NULL) {
                continue;
            }

            if (end - start == 3 && ngx_strncmp(start, "*/*", 3) == 0) {
                specificity = 0;

            } else if ((size_t) (slash - start) == major
                       && ngx_strncasecmp(start, (u_char *) type, major) == 0
                       && end - slash == 2 && slash[1] == '*')
            {
                specificity = 1;

            } else if ((size_t) (end - start) == tlen
                       && ngx_strncasecmp(start, (u_char *) type, tlen) == 0)
            {
                specificity = 2;

            } else {
                continue;
            }

            if (specificity > best) {
                best = specificity;

                /* "q=0", "q=0.0", "q=0.000" refuse */
                quality = 1;

                if (q && q < last && *q == '0') {
                    quality = 0;

                    for (q++; q < last && *q != ',' && *q != ';'; q++) {
                        if (*q >= '1' && *q <= '9') {
                            quality = 1;
                        }
                    }
                }
            }
        }
    }

    return best >= 0 && quality;
}


static void
ngx_http_mcp_client_copy(ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_session_info_t *info)
{
    info->client_len = ngx_min(ctx->principal.len, NGX_HTTP_MCP_CLIENT_LEN);
    ngx_memcpy(info->client, ctx->principal.data, info->client_len);
}


static ngx_int_t
ngx_http_mcp_client_owns(ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_session_info_t *info)
{
    return info->client_len == ngx_min(ctx->principal.len,
                                       NGX_HTTP_MCP_CLIENT_LEN)
           && ngx_memcmp(info->client, ctx->principal.data,
                         info->client_len) == 0;
}


static ngx_str_t *
ngx_http_mcp_missing_scope(ngx_http_mcp_ctx_t *ctx, ngx_http_mcp_tool_t *tool)
{
    ngx_str_t   *need;
    ngx_uint_t   i;

    /* the first scope the tool needs that the client lacks, if any */

    if (tool->scopes == NULL) {
        return NULL;
    }

    need = tool->scopes->elts;

    for (i = 0; i < tool->scopes->nelts; i++) {
        if (!ngx_http_mcp_str_listed(ctx->scopes, &need[i])) {
            return &need[i];
        }
    }

    return NULL;
}


static ngx_array_t *
ngx_http_mcp_visible_tools(ngx_http_mcp_ctx_t *ctx, ngx_array_t *tools)
{
    ngx_uint_t            i, all;
    ngx_array_t          *visible;
    ngx_http_mcp_tool_t  *tool, *t;

    /* a client sees the tools it may call, and pages go over those */

    if (tools == NULL) {
        return NULL;
    }

    tool = tools->elts;
    all = 1;

    for (i = 0; i < tools->nelts; i++) {
        if (ngx_http_mcp_missing_scope(ctx, &tool[i])) {
            all = 0;
            break;
        }
    }

    if (all) {
        return tools;
    }

    visible = ngx_array_create(ctx->request->pool, tools->nelts,
                               sizeof(ngx_http_mcp_tool_t));
    if (visible == NULL) {
        return NULL;
    }

    for (i = 0; i < tools->nelts; i++) {
        if (ngx_http_mcp_missing_scope(ctx, &tool[i]) == NULL) {
            t = ngx_array_push(visible);
            *t = tool[i];
        }
    }

    return visible;
}


static ngx_int_t
ngx_http_mcp_enter(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx,
    ngx_uint_t max, ngx_int_t *sent)
{
    ngx_int_t                  rc;
    ngx_table_elt_t           *h;
    ngx_pool_cleanup_t        *cln;
    ngx_http_mcp_entered_t    *e;
    ngx_http_mcp_main_conf_t  *mmcf;

    /*
     * Each message may hold a tool call, and a tool call a connection to
     * its backend: a session has so many requests in progress at once.
     */

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    /* the id is copied: the header buffers may go before the pool */

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_mcp_entered_t)
                                        + ctx->session_id.len);
    if (cln == NULL) {
        *sent = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    cln->handler = NULL;

    rc = ngx_http_mcp_session_enter(mmcf->session_zone, &ctx->session_id,
                                    max);

    if (rc == NGX_BUSY) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mcp: session %V has %ui requests in progress, "
                      "mcp_max_session_requests; one more was refused",
                      &ctx->session_id, max);

        h = ngx_http_mcp_header_out(r, "Retry-After", "1");
        if (h == NULL) {
            *sent = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_ERROR;
        }

        *sent = ngx_http_mcp_reject(r, NULL, NGX_HTTP_TOO_MANY_REQUESTS,
                                    NGX_HTTP_MCP_TRANSPORT_ERROR,
                                    "Too Many Requests: the session has "
                                    "mcp_max_session_requests requests "
                                    "in progress; wait for one to end");
        return NGX_BUSY;
    }

    if (rc == NGX_DECLINED) {
        /* ended meanwhile */
        *sent = ngx_http_mcp_reject(r, NULL, NGX_HTTP_NOT_FOUND,
                                    NGX_HTTP_MCP_SESSION_NOT_FOUND,
                                    "Session not found");
        return NGX_DECLINED;
    }

    if (rc == NGX_OK) {
        ctx->entered = 1;

        e = cln->data;
        e->zone = mmcf->session_zone;
        e->id.data = (u_char *) (e + 1);
        e->id.len = ctx->session_id.len;
        ngx_memcpy(e->id.data, ctx->session_id.data, e->id.len);

        cln->handler = ngx_http_mcp_leave;
    }

    return NGX_OK;
}


static void
ngx_http_mcp_leave(void *data)
{
    ngx_http_mcp_entered_t *e = data;

    /* the request's pool goes: the request is over, whatever its end */

    ngx_http_mcp_session_leave(e->zone, &e->id);
}


static ngx_int_t
ngx_http_mcp_too_many_sessions(ngx_http_request_t *r)
{
    return ngx_http_mcp_reject(r, NULL, NGX_HTTP_TOO_MANY_REQUESTS,
                               NGX_HTTP_MCP_TRANSPORT_ERROR,
                               "Too Many Requests: this client has "
                               "mcp_max_client_sessions sessions; end one "
                               "(DELETE) or let one expire");
}
