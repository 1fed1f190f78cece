
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_mcp_module.h"


/*
 * Health probes: "live" answers while the worker runs; "ready" checks
 * what requests depend on (the session zone can take a new session).
 */


static ngx_int_t ngx_http_mcp_health_send(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);


ngx_int_t
ngx_http_mcp_health_handler(ngx_http_request_t *r)
{
    json_t                    *json, *deps;
    ngx_int_t                  rc;
    ngx_str_t                  reason;
    ngx_uint_t                 status, sessions;
    ngx_http_mcp_loc_conf_t   *mlcf;
    ngx_http_mcp_main_conf_t  *mmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mcp_module);
    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mcp_module);

    if (mlcf->health == NGX_HTTP_MCP_HEALTH_LIVE) {
        json = json_pack("{s:s}", "status", "alive");
        return ngx_http_mcp_health_send(r, NGX_HTTP_OK, json);
    }

    deps = json_object();
    if (deps == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    status = NGX_HTTP_OK;

    if (mmcf->session_zone) {
        if (ngx_http_mcp_session_ready(mmcf->session_zone, &sessions)
            == NGX_OK)
        {
            json_object_set_new(deps, "session_zone",
                                json_pack("{s:s, s:I}", "status", "ok",
                                          "sessions",
                                          (json_int_t) sessions));

        } else {
            status = NGX_HTTP_SERVICE_UNAVAILABLE;

            json_object_set_new(deps, "session_zone",
                                json_pack("{s:s, s:s, s:I}",
                                          "status", "failing",
                                          "reason", "zone is full",
                                          "sessions",
                                          (json_int_t) sessions));
        }
    }

    /* each worker has its own connections; this one's are reported */

    switch (ngx_http_mcp_redis_state(&reason)) {

    case NGX_OK:
        json_object_set_new(deps, "redis",
                            json_pack("{s:s, s:I}", "status", "ok",
                                      "reconnects", (json_int_t)
                                      ngx_http_mcp_redis_reconnects()));
        break;

    case NGX_ERROR:
        status = NGX_HTTP_SERVICE_UNAVAILABLE;

        json_object_set_new(deps, "redis",
                            json_pack("{s:s, s:s%, s:I}",
                                      "status", "failing",
                                      "reason", reason.data, reason.len,
                                      "reconnects", (json_int_t)
                                      ngx_http_mcp_redis_reconnects()));
        break;

    default:
        break;
    }

    json = json_pack("{s:s, s:o}", "status",
                     status == NGX_HTTP_OK ? "ready" : "not ready",
                     "dependencies", deps);

    if (json && mmcf->session_zone) {

        /* server messages put on streams, over all workers */

        json_object_set_new(json, "messages",
            json_pack("{s:I, s:I, s:I}",
                "local", (json_int_t) ngx_http_mcp_session_counter(
                             mmcf->session_zone,
                             NGX_HTTP_MCP_DELIVERED_LOCAL),
                "ipc", (json_int_t) ngx_http_mcp_session_counter(
                           mmcf->session_zone, NGX_HTTP_MCP_DELIVERED_IPC),
                "failed", (json_int_t) ngx_http_mcp_session_counter(
                              mmcf->session_zone,
                              NGX_HTTP_MCP_DELIVERY_FAILED)));

        if (mmcf->redis) {
            json_object_set_new(json_object_get(json, "messages"), "redis",
                json_integer((json_int_t) ngx_http_mcp_session_counter(
                                 mmcf->session_zone,
                                 NGX_HTTP_MCP_DELIVERED_REDIS)));
        }
    }

    return ngx_http_mcp_health_send(r, status, json);
}


static ngx_int_t
ngx_http_mcp_health_send(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    ngx_int_t         rc;
    ngx_table_elt_t  *h;

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_http_mcp_header_out(r, "Cache-Control", "no-store");
    if (h == NULL) {
        json_decref(json);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

#if (nginx_version >= 1023000)
    /* from 1.23 on, the header has a place of its own */
    r->headers_out.cache_control = h;
#endif

    rc = ngx_http_mcp_send_json(r, status, json);
    json_decref(json);

    return rc;
}
