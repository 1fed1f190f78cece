
/*
 * Copyright (C) ngx_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_MODULE_H_INCLUDED_
#define _NGX_HTTP_MCP_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include "ngx_http_mcp_jsonrpc.h"
#include "ngx_http_mcp_protocol.h"
#include "ngx_http_mcp_session.h"


#define NGX_HTTP_MCP_HEALTH_LIVE   1
#define NGX_HTTP_MCP_HEALTH_READY  2

/* messages between workers */
#define NGX_HTTP_MCP_IPC_CLOSE_STREAM  1
#define NGX_HTTP_MCP_IPC_DELIVER       2

/* not among nginx's own status codes */
#define NGX_HTTP_MCP_NOT_ACCEPTABLE  406
#define NGX_HTTP_MCP_GONE            410

/* a stream's ownership in Redis outlives a few missed keepalives */
#define NGX_HTTP_MCP_SSE_OWNER_TTL(mlcf)                                     \
    ngx_max(3 * (mlcf)->sse_ping_interval, 3000)

/* a message's result: the worker holding the stream is gone */
#define NGX_HTTP_MCP_NOBODY          -100

/* how long a session confirmed by Redis is taken on trust */
#define NGX_HTTP_MCP_REDIS_CHECK     1000


/* tool names are at most this long */
#define NGX_HTTP_MCP_TOOL_NAME_MAX           128

/* what became of a tools/call, for the metrics and $mcp_tool_status */
#define NGX_HTTP_MCP_OUTCOME_OK              0
#define NGX_HTTP_MCP_OUTCOME_ERROR           1
#define NGX_HTTP_MCP_OUTCOME_TIMEOUT         2
#define NGX_HTTP_MCP_OUTCOME_FAILED          3
#define NGX_HTTP_MCP_OUTCOME_DENIED          4
#define NGX_HTTP_MCP_OUTCOME_INVALID         5
#define NGX_HTTP_MCP_OUTCOMES                6

/* why mcp_auth or the Origin check refused a request */
#define NGX_HTTP_MCP_AUTH_MISSING            0
#define NGX_HTTP_MCP_AUTH_INVALID_TOKEN      1
#define NGX_HTTP_MCP_AUTH_INVALID_REQUEST    2
#define NGX_HTTP_MCP_AUTH_INSUFFICIENT       3
#define NGX_HTTP_MCP_AUTH_ORIGIN             4
#define NGX_HTTP_MCP_AUTH_REASONS            5

/* methods counted by name in the metrics, "other" included */
#define NGX_HTTP_MCP_METHODS                 18

/* what mcp_limit_req made of a request, for $mcp_limit_req_status */
#define NGX_HTTP_MCP_LIMIT_PASSED            1
#define NGX_HTTP_MCP_LIMIT_DELAYED           2
#define NGX_HTTP_MCP_LIMIT_REJECTED          3
#define NGX_HTTP_MCP_LIMIT_DELAYED_DRY_RUN   4
#define NGX_HTTP_MCP_LIMIT_REJECTED_DRY_RUN  5


typedef struct ngx_http_mcp_auth_s        ngx_http_mcp_auth_t;
typedef struct ngx_http_mcp_oauth_s       ngx_http_mcp_oauth_t;
typedef struct ngx_http_mcp_limit_zone_s  ngx_http_mcp_limit_zone_t;


typedef struct {
    ngx_str_t                 name;         /* as configured */
    u_char                   *host;         /* numeric, NUL-terminated */
    int                       port;
    u_char                   *path;         /* a Unix socket */
    ngx_uint_t                db;
    ngx_str_t                 password;
    ngx_str_t                 prefix;
    ngx_msec_t                connect_timeout;
    ngx_msec_t                command_timeout;
} ngx_http_mcp_redis_conf_t;


typedef struct {
    ngx_shm_zone_t             *session_zone;
    ngx_http_mcp_redis_conf_t  *redis;
    ngx_str_t                   node_id;
    ngx_array_t                *limit_zones;   /* ngx_shm_zone_t *, declared */
    ngx_array_t                *limit_used;    /* ngx_shm_zone_t *, named */
    ngx_array_t                *tool_names;    /* ngx_str_t, for metrics */
    ngx_int_t                   request_id;    /* $request_id's index */
    ngx_shm_zone_t             *metrics_zone;
} ngx_http_mcp_main_conf_t;


typedef struct {
    ngx_flag_t                enable;
    ngx_uint_t                health;
    ngx_uint_t                metrics;
    ngx_uint_t                notify;
    ngx_str_t                 server_name;
    ngx_str_t                 server_version;
    ngx_str_t                 instructions;
    ngx_array_t              *tools;        /* ngx_http_mcp_tool_t */
    size_t                    max_body_size;
    size_t                    tool_max_response;
    ngx_uint_t                max_json_depth;
    ngx_uint_t                max_json_values;
    ngx_uint_t                max_batch;
    ngx_uint_t                tools_page_size;
    ngx_uint_t                max_client_sessions;
    ngx_uint_t                max_session_requests;
    ngx_msec_t                tool_timeout;
    ngx_msec_t                sse_ping_interval;
    size_t                    sse_max_backlog;
    ngx_http_complex_value_t *public_base;
    ngx_http_complex_value_t *sse_endpoint;
    ngx_http_mcp_auth_t      *auth;
    ngx_http_mcp_oauth_t     *oauth;
    ngx_uint_t                oauth_metadata;
    ngx_array_t              *origins;      /* ngx_str_t, allowed */
    ngx_array_t              *limits;       /* mcp_limit_req */
    ngx_uint_t                limit_status_code;
    ngx_uint_t                limit_log_level;
    ngx_flag_t                limit_dry_run;
} ngx_http_mcp_loc_conf_t;


/* a location has one content handler of ours */
#define ngx_http_mcp_has_handler(mlcf)                                       \
    ((mlcf)->enable != NGX_CONF_UNSET || (mlcf)->health || (mlcf)->notify   \
     || (mlcf)->metrics || (mlcf)->oauth_metadata)


typedef struct ngx_http_mcp_ctx_s     ngx_http_mcp_ctx_t;
typedef struct ngx_http_mcp_stream_s  ngx_http_mcp_stream_t;
typedef struct ngx_http_mcp_ipc_s     ngx_http_mcp_ipc_t;

typedef void (*ngx_http_mcp_ipc_handler_pt)(void *data, ngx_int_t rc);
typedef ngx_int_t (*ngx_http_mcp_resume_pt)(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);

typedef struct ngx_http_mcp_redis_cmd_s  ngx_http_mcp_redis_cmd_t;
typedef struct ngx_http_mcp_redis_msg_s  ngx_http_mcp_redis_msg_t;

/* the reply is a redisReply, or NULL when there is none */
typedef void (*ngx_http_mcp_redis_handler_pt)(void *data, void *reply);


/* one tools/call in flight, a subrequest of the client's POST */
typedef struct {
    ngx_http_mcp_ctx_t       *ctx;
    ngx_http_mcp_tool_t      *tool;
    ngx_http_request_t       *sr;
    json_t                   *id;
    json_t                  **slot;         /* where the response goes */
    ngx_http_mcp_reply_t      reply;
    ngx_buf_t                *body;
    ngx_event_t               timer;
    ngx_int_t                 failure;      /* nginx's status, not the tool's */
    ngx_msec_t                start;
    unsigned                  timed_out:1;
} ngx_http_mcp_call_t;


struct ngx_http_mcp_ctx_s {
    ngx_http_request_t       *request;
    json_t                   *body;         /* the parsed POST body */
    json_t                  **responses;    /* one per message */
    ngx_uint_t                nmessages;
    ngx_uint_t                next;         /* message being dispatched */
    ngx_uint_t                version;
    ngx_uint_t                batch;
    ngx_str_t                 session_id;
    ngx_str_t                 client;       /* the principal, $mcp_client */
    ngx_str_t                 principal;    /* the same, to own sessions */
    ngx_array_t              *scopes;       /* the principal's */
    ngx_str_t                 method;       /* for $mcp_method */
    ngx_str_t                 tool;         /* for $mcp_tool */
    ngx_array_t              *denied;       /* scopes of a tool refused */
    json_t                   *id;           /* for $mcp_jsonrpc_id */
    ngx_http_mcp_call_t      *call;
    ngx_http_mcp_stream_t    *stream;       /* a GET stream */
    ngx_http_mcp_ipc_t       *ipc;          /* a message to another worker */
    ngx_http_mcp_redis_cmd_t *redis;        /* a Redis command in flight */
    ngx_http_mcp_redis_msg_t *msg;          /* a message to another host */
    ngx_str_t                 delivery;     /* what it carries */
    ngx_str_t                 owner;        /* "<node>:<pid>" of the stream */
    uint32_t                  serial;       /* of the stream being opened */
    json_t                   *pending;      /* an answer held back */
    ngx_http_mcp_resume_pt    resume;
    ngx_buf_t                *error_body;   /* replaces nginx's own page */
    ngx_uint_t                limit_status; /* $mcp_limit_req_status */
    ngx_uint_t                tool_status;  /* an outcome + 1, 0: none */
    ngx_str_t                 limit_zone;   /* the zone that refused */
    ngx_event_t               limit_timer;  /* a delay of mcp_limit_req */
    unsigned                  replying:1;
    unsigned                  error_sent:1;
    unsigned                  legacy:1;     /* HTTP with SSE (2024-11-05) */
    unsigned                  notify:1;     /* pushed by a tool backend */
    unsigned                  resume_body:1; /* resumes a body handler */
    unsigned                  looked_up:1;  /* Redis was asked */
    unsigned                  lookup_failed:1;
    unsigned                  via_redis:1;
    unsigned                  opening:1;    /* a legacy stream, not yet */
    unsigned                  oauth:1;      /* the principal's a JWT's */
    unsigned                  entered:1;    /* counted in its session */
    unsigned                  limit_done:1; /* mcp_limit_req has counted */
};


extern ngx_module_t  ngx_http_mcp_module;


ngx_int_t ngx_http_mcp_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_health_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_notify_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_tool_call(ngx_http_mcp_ctx_t *ctx,
    ngx_http_mcp_tool_t *tool, json_t *id, json_t *args, json_t **slot);
ngx_int_t ngx_http_mcp_tool_filter_init(ngx_conf_t *cf);
ngx_int_t ngx_http_mcp_add_variables(ngx_conf_t *cf);
void ngx_http_mcp_dispatch(ngx_http_mcp_ctx_t *ctx);
ngx_http_mcp_ctx_t *ngx_http_mcp_error_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_error_page(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx);
ngx_http_mcp_ctx_t *ngx_http_mcp_ctx_create(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_sse_open(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, uint32_t serial, ngx_str_t *endpoint);
ngx_int_t ngx_http_mcp_sse_deliver(ngx_str_t *id, u_char *json, size_t len);
void ngx_http_mcp_sse_init_process(void);
void ngx_http_mcp_sse_close_all(void);
ngx_int_t ngx_http_mcp_sse_close_session(ngx_str_t *id);
ngx_int_t ngx_http_mcp_ipc_init_process(ngx_cycle_t *cycle,
    ngx_str_t *instance);
ngx_int_t ngx_http_mcp_ipc_send(ngx_pid_t pid, ngx_uint_t type,
    ngx_str_t *id, u_char *payload, size_t len,
    ngx_http_mcp_ipc_handler_pt handler, void *data,
    ngx_http_mcp_ipc_t **ipcp);
void ngx_http_mcp_ipc_detach(ngx_http_mcp_ipc_t *ipc);
char *ngx_http_mcp_auth_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mcp_auth_handler(ngx_http_request_t *r);
ngx_uint_t ngx_http_mcp_auth_jwt(ngx_http_mcp_auth_t *auth);
ngx_int_t ngx_http_mcp_auth_challenge(ngx_http_request_t *r,
    const char *error, const char *description, ngx_str_t *scope);
ngx_uint_t ngx_http_mcp_str_listed(ngx_array_t *list, ngx_str_t *str);
ngx_int_t ngx_http_mcp_auth_insufficient(ngx_http_request_t *r,
    ngx_array_t *scopes);
ngx_int_t ngx_http_mcp_conf_zone(ngx_conf_t *cf, ngx_str_t *value,
    ngx_str_t *name, ssize_t *size);
ngx_int_t ngx_http_mcp_conf_file(ngx_conf_t *cf, ngx_str_t *name,
    size_t max, ngx_str_t *text);
char *ngx_http_mcp_oauth_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mcp_oauth_scopes(ngx_conf_t *cf, ngx_str_t *value,
    ngx_array_t **scopes);
ngx_str_t *ngx_http_mcp_oauth_metadata_url(ngx_http_mcp_oauth_t *oauth);
ngx_int_t ngx_http_mcp_oauth_metadata_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mcp_oauth_verify(ngx_http_request_t *r,
    ngx_http_mcp_oauth_t *oauth, ngx_str_t *token, ngx_str_t *client,
    ngx_str_t *principal, ngx_str_t *scope, const char **error);
char *ngx_http_mcp_limit_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mcp_limit_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mcp_limit_conf_check(ngx_conf_t *cf,
    ngx_http_mcp_main_conf_t *mmcf);
ngx_int_t ngx_http_mcp_limit_check(ngx_http_request_t *r,
    ngx_http_mcp_ctx_t *ctx, ngx_msec_t *delay, ngx_msec_t *retry);
ngx_str_t *ngx_http_mcp_limit_status_name(ngx_uint_t status);
void ngx_http_mcp_limit_counters(ngx_shm_zone_t *shm_zone,
    ngx_atomic_uint_t *rejected, ngx_atomic_uint_t *delayed);
ngx_int_t ngx_http_mcp_metrics_zone(ngx_conf_t *cf,
    ngx_http_mcp_main_conf_t *mmcf);
ngx_int_t ngx_http_mcp_metrics_init_process(ngx_cycle_t *cycle,
    ngx_http_mcp_main_conf_t *mmcf);
void ngx_http_mcp_metrics_exit_process(void);
void ngx_http_mcp_metrics_request(ngx_str_t *method);
void ngx_http_mcp_metrics_tool(ngx_http_mcp_tool_t *tool, ngx_uint_t outcome,
    ngx_msec_t ms);
ngx_str_t *ngx_http_mcp_metrics_outcome(ngx_uint_t outcome);
void ngx_http_mcp_metrics_auth(ngx_uint_t reason);
void ngx_http_mcp_metrics_stream(ngx_int_t delta);
void ngx_http_mcp_metrics_redis(ngx_uint_t up);
void ngx_http_mcp_metrics_reconnect(void);
ngx_int_t ngx_http_mcp_metrics_handler(ngx_http_request_t *r);
char *ngx_http_mcp_redis_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mcp_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_mcp_main_conf_t *mmcf);
void ngx_http_mcp_redis_exit_process(void);
ngx_int_t ngx_http_mcp_redis_state(ngx_str_t *reason);
ngx_uint_t ngx_http_mcp_redis_reconnects(void);
ngx_uint_t ngx_http_mcp_redis_settling(void);
void ngx_http_mcp_redis_failed(const char *why);
ngx_int_t ngx_http_mcp_redis_command(ngx_http_mcp_redis_handler_pt handler,
    void *data, ngx_uint_t argc, const char **argv, const size_t *argvlen,
    ngx_http_mcp_redis_cmd_t **cmdp);
void ngx_http_mcp_redis_cancel(ngx_http_mcp_redis_cmd_t *cmd);
ngx_int_t ngx_http_mcp_redis_session_set(ngx_str_t *id,
    ngx_http_mcp_session_info_t *info, ngx_http_mcp_redis_handler_pt handler,
    void *data, ngx_http_mcp_redis_cmd_t **cmdp);
ngx_int_t ngx_http_mcp_redis_session_get(ngx_str_t *id,
    ngx_http_mcp_redis_handler_pt handler, void *data,
    ngx_http_mcp_redis_cmd_t **cmdp);
ngx_int_t ngx_http_mcp_redis_session_del(ngx_str_t *id,
    ngx_http_mcp_redis_handler_pt handler, void *data,
    ngx_http_mcp_redis_cmd_t **cmdp);
ngx_int_t ngx_http_mcp_redis_session_parse(void *reply,
    ngx_http_mcp_session_info_t *info);
ngx_int_t ngx_http_mcp_redis_send(ngx_str_t *owner, ngx_uint_t type,
    ngx_str_t *id, u_char *payload, size_t len,
    ngx_http_mcp_ipc_handler_pt handler, void *data,
    ngx_http_mcp_redis_msg_t **msgp);
void ngx_http_mcp_redis_msg_cancel(ngx_http_mcp_redis_msg_t *msg);
ngx_int_t ngx_http_mcp_redis_owner_set(ngx_str_t *id, ngx_pid_t pid,
    ngx_msec_t ttl, ngx_http_mcp_redis_handler_pt handler, void *data,
    ngx_http_mcp_redis_cmd_t **cmdp);
ngx_int_t ngx_http_mcp_redis_owner_claim(ngx_str_t *id, ngx_msec_t ttl,
    ngx_http_mcp_redis_handler_pt handler, void *data,
    ngx_http_mcp_redis_cmd_t **cmdp);
ngx_int_t ngx_http_mcp_redis_owner_get(ngx_str_t *id,
    ngx_http_mcp_redis_handler_pt handler, void *data,
    ngx_http_mcp_redis_cmd_t **cmdp);
void ngx_http_mcp_redis_owner_release(ngx_str_t *id, ngx_uint_t legacy);
void ngx_http_mcp_redis_owner_forget(ngx_str_t *id, ngx_str_t *owner,
    ngx_uint_t legacy);
ngx_pid_t ngx_http_mcp_redis_owner_pid(ngx_str_t *owner);
void ngx_http_mcp_redis_stream_alive(ngx_str_t *id, ngx_msec_t ttl);
void ngx_http_mcp_redis_close_remote(ngx_str_t *id);
ngx_int_t ngx_http_mcp_redis_owner(void *reply, ngx_str_t *owner,
    ngx_pid_t *pid);
ngx_table_elt_t *ngx_http_mcp_header(ngx_http_request_t *r,
    const char *name, size_t len);
ngx_table_elt_t *ngx_http_mcp_header_out(ngx_http_request_t *r, char *key,
    char *value);
ngx_int_t ngx_http_mcp_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json);


#endif /* _NGX_HTTP_MCP_MODULE_H_INCLUDED_ */
