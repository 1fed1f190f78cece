
/*
 * Copyright (C) ngx_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_SESSION_H_INCLUDED_
#define _NGX_HTTP_MCP_SESSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* 128 random bits, written as lowercase hex */
#define NGX_HTTP_MCP_SESSION_BYTES  16
#define NGX_HTTP_MCP_SESSION_ID_LEN (NGX_HTTP_MCP_SESSION_BYTES * 2)

/* the principal a session belongs to, as mcp_auth names it */
#define NGX_HTTP_MCP_CLIENT_LEN     136

/* "<node>:<pid>" of the worker holding a stream, as cached */
#define NGX_HTTP_MCP_OWNER_LEN      96

/* 64 random bits naming an nginx instance, as hex */
#define NGX_HTTP_MCP_INSTANCE_LEN   16


/* messages put on streams, for the metrics */
#define NGX_HTTP_MCP_DELIVERED_LOCAL  0
#define NGX_HTTP_MCP_DELIVERED_IPC    1
#define NGX_HTTP_MCP_DELIVERY_FAILED  2
#define NGX_HTTP_MCP_DELIVERED_REDIS  3
#define NGX_HTTP_MCP_DELIVERY_NCOUNTERS  4


typedef struct {
    ngx_uint_t                version;      /* 0: not initialized yet */
    ngx_pid_t                 stream;       /* worker holding the stream */
    uint32_t                  serial;       /* streams opened so far */
    ngx_msec_t                checked;      /* last confirmed by Redis */
    size_t                    client_len;
    u_char                    client[NGX_HTTP_MCP_CLIENT_LEN];
    ngx_uint_t                max_per_client;   /* at creation, 0: none */
    unsigned                  legacy:1;     /* HTTP with SSE (2024-11-05) */
    unsigned                  registered:1; /* in Redis */
} ngx_http_mcp_session_info_t;


/* NGX_OK when the session is taken care of */
typedef ngx_int_t (*ngx_http_mcp_session_walk_pt)(void *data, ngx_str_t *id,
    ngx_http_mcp_session_info_t *info);


char *ngx_http_mcp_session_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mcp_session_create(ngx_shm_zone_t *shm_zone,
    ngx_http_mcp_session_info_t *info, u_char *id, ngx_log_t *log);
ngx_int_t ngx_http_mcp_session_import(ngx_shm_zone_t *shm_zone,
    ngx_str_t *id, ngx_http_mcp_session_info_t *info, ngx_log_t *log);
ngx_int_t ngx_http_mcp_session_enter(ngx_shm_zone_t *shm_zone,
    ngx_str_t *id, ngx_uint_t max);
void ngx_http_mcp_session_leave(ngx_shm_zone_t *shm_zone, ngx_str_t *id);
void ngx_http_mcp_session_mark(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_uint_t registered);
ngx_uint_t ngx_http_mcp_session_register_all(ngx_shm_zone_t *shm_zone,
    ngx_uint_t all, ngx_http_mcp_session_walk_pt handler, void *data);
ngx_int_t ngx_http_mcp_session_find(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_http_mcp_session_info_t *info);
ngx_int_t ngx_http_mcp_session_delete(ngx_shm_zone_t *shm_zone,
    ngx_str_t *id, ngx_pid_t *stream);
ngx_int_t ngx_http_mcp_session_initialize(ngx_shm_zone_t *shm_zone,
    ngx_str_t *id, ngx_uint_t version);
ngx_int_t ngx_http_mcp_session_stream_claim(ngx_shm_zone_t *shm_zone,
    ngx_str_t *id, ngx_pid_t pid, uint32_t *serial);
void ngx_http_mcp_session_stream_release(ngx_shm_zone_t *shm_zone,
    ngx_str_t *id, ngx_pid_t pid);
ngx_int_t ngx_http_mcp_session_ready(ngx_shm_zone_t *shm_zone,
    ngx_uint_t *sessions);
ngx_msec_t ngx_http_mcp_session_idle_timeout(ngx_shm_zone_t *shm_zone);
ngx_int_t ngx_http_mcp_session_register_turn(ngx_shm_zone_t *shm_zone,
    ngx_msec_t within);
ngx_int_t ngx_http_mcp_session_owner(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    u_char *owner, size_t *len, ngx_msec_t max_age);
void ngx_http_mcp_session_set_owner(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_str_t *owner);
void ngx_http_mcp_session_instance(ngx_shm_zone_t *shm_zone,
    ngx_str_t *name);
void ngx_http_mcp_session_count(ngx_shm_zone_t *shm_zone, ngx_uint_t what);
ngx_atomic_uint_t ngx_http_mcp_session_evicted(ngx_shm_zone_t *shm_zone);
ngx_atomic_uint_t ngx_http_mcp_session_counter(ngx_shm_zone_t *shm_zone,
    ngx_uint_t what);


#endif /* _NGX_HTTP_MCP_SESSION_H_INCLUDED_ */
