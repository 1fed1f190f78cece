
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_mcp_module.h"


/*
 * Configuration: the directives, their defaults and inheritance.
 */


#define NGX_HTTP_MCP_MODULE_VERSION  "0.1.0"


static void *ngx_http_mcp_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_mcp_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mcp_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_mcp_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_mcp_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_mcp_init_process(ngx_cycle_t *cycle);
static char *ngx_http_mcp(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_mcp_server_info(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_tool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_health(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_notify(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_node_id(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mcp_oauth_metadata(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_mcp_allowed_origins(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_mcp_init_main_conf(ngx_conf_t *cf, void *conf);
static void ngx_http_mcp_exit_process(ngx_cycle_t *cycle);
static json_t *ngx_http_mcp_load_schema(ngx_conf_t *cf, ngx_str_t *tool,
    const char *what, ngx_str_t *file);
static char *ngx_http_mcp_tool_scopes(ngx_conf_t *cf,
    ngx_http_mcp_tool_t *tool, ngx_str_t *value);
static ngx_int_t ngx_http_mcp_tool_metric(ngx_conf_t *cf,
    ngx_http_mcp_tool_t *tool);
static void ngx_http_mcp_json_cleanup(void *data);
static char *ngx_http_mcp_conf_text(ngx_conf_t *cf, ngx_str_t *value,
    const char *what);
static char *ngx_http_mcp_instructions_check(ngx_conf_t *cf, void *post,
    void *data);


static ngx_conf_post_t  ngx_http_mcp_instructions_post = {
    ngx_http_mcp_instructions_check
};

static ngx_conf_num_bounds_t  ngx_http_mcp_depth_bounds = {
    ngx_conf_check_num_bounds, 2, 1000
};

static ngx_conf_num_bounds_t  ngx_http_mcp_values_bounds = {
    ngx_conf_check_num_bounds, 16, 100000000
};

static ngx_conf_num_bounds_t  ngx_http_mcp_batch_bounds = {
    ngx_conf_check_num_bounds, 1, 10000
};

static ngx_conf_num_bounds_t  ngx_http_mcp_limit_status_bounds = {
    ngx_conf_check_num_bounds, 400, 599
};

static ngx_conf_enum_t  ngx_http_mcp_limit_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_mcp_commands[] = {

    { ngx_string("mcp"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_session_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_session_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_auth_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_mcp_oauth_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_oauth_metadata"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_oauth_metadata,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_allowed_origins"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_allowed_origins,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_limit_req_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3,
      ngx_http_mcp_limit_zone_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_limit_req"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_limit_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_limit_req_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, limit_status_code),
      &ngx_http_mcp_limit_status_bounds },

    { ngx_string("mcp_limit_req_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, limit_log_level),
      &ngx_http_mcp_limit_log_levels },

    { ngx_string("mcp_limit_req_dry_run"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, limit_dry_run),
      NULL },

    { ngx_string("mcp_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_mcp_redis_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_node_id"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_node_id,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_server_info"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_mcp_server_info,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_instructions"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, instructions),
      &ngx_http_mcp_instructions_post },

    { ngx_string("mcp_tool"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_mcp_tool,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mcp_health,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_max_body_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, max_body_size),
      NULL },

    { ngx_string("mcp_max_json_depth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, max_json_depth),
      &ngx_http_mcp_depth_bounds },

    { ngx_string("mcp_max_json_values"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, max_json_values),
      &ngx_http_mcp_values_bounds },

    { ngx_string("mcp_max_batch"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, max_batch),
      &ngx_http_mcp_batch_bounds },

    { ngx_string("mcp_tool_max_response"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, tool_max_response),
      NULL },

    { ngx_string("mcp_tool_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, tool_timeout),
      NULL },

    { ngx_string("mcp_sse_ping_interval"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, sse_ping_interval),
      NULL },

    { ngx_string("mcp_sse_max_backlog"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, sse_max_backlog),
      NULL },

    { ngx_string("mcp_public_base"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, public_base),
      NULL },

    { ngx_string("mcp_sse_endpoint"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, sse_endpoint),
      NULL },

    { ngx_string("mcp_notify"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mcp_notify,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mcp_max_client_sessions"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, max_client_sessions),
      NULL },

    { ngx_string("mcp_max_session_requests"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, max_session_requests),
      NULL },

    { ngx_string("mcp_tools_page_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mcp_loc_conf_t, tools_page_size),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mcp_module_ctx = {
    ngx_http_mcp_preconfiguration,         /* preconfiguration */
    ngx_http_mcp_postconfiguration,        /* postconfiguration */

    ngx_http_mcp_create_main_conf,         /* create main configuration */
    ngx_http_mcp_init_main_conf,           /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_mcp_create_loc_conf,          /* create location configuration */
    ngx_http_mcp_merge_loc_conf            /* merge location configuration */
};


ngx_module_t  ngx_http_mcp_module = {
    NGX_MODULE_V1,
    &ngx_http_mcp_module_ctx,              /* module context */
    ngx_http_mcp_commands,                 /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_mcp_init_process,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_mcp_exit_process,             /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_mcp_create_main_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_main_conf_t));
}


static char *
ngx_http_mcp_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_mcp_main_conf_t *mmcf = conf;

    /* each host's channels must differ: the host name by default */

    if (mmcf->node_id.len == 0) {
        mmcf->node_id = cf->cycle->hostname;
    }

    if (mmcf->redis && mmcf->session_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_redis\" requires \"mcp_session_zone\"");
        return NGX_CONF_ERROR;
    }

    /* where there are sessions there are counters of them */

    if (mmcf->session_zone
        && ngx_http_mcp_metrics_zone(cf, mmcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_mcp_limit_conf_check(cf, mmcf);
}


static char *
ngx_http_mcp_oauth_metadata(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (ngx_http_mcp_has_handler(mlcf)) {
        return "is duplicate";
    }

    mlcf->oauth_metadata = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_oauth_metadata_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_allowed_origins(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    ngx_str_t   *value, *origin;
    ngx_uint_t   i;

    if (mlcf->origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    mlcf->origins = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                     sizeof(ngx_str_t));
    if (mlcf->origins == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    /* "*", or origins as browsers send them: scheme://host[:port] */

    for (i = 1; i < cf->args->nelts; i++) {

        if (!(value[i].len == 1 && value[i].data[0] == '*')
            && ngx_strncasecmp(value[i].data, (u_char *) "http://", 7) != 0
            && ngx_strncasecmp(value[i].data, (u_char *) "https://", 8) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid origin \"%V\": \"*\" or "
                               "scheme://host[:port]", &value[i]);
            return NGX_CONF_ERROR;
        }

        origin = ngx_array_push(mlcf->origins);
        if (origin == NULL) {
            return NGX_CONF_ERROR;
        }

        *origin = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_node_id(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_main_conf_t *mmcf = conf;

    u_char     *p;
    ngx_str_t  *value;

    if (mmcf->node_id.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > 64) {
        return "takes a name of 1 to 64 characters";
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (*p < 0x21 || *p > 0x7e || *p == ':') {
            return "takes visible ASCII characters other than \":\"";
        }
    }

    mmcf->node_id = value[1];

    return NGX_CONF_OK;
}


static void *
ngx_http_mcp_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mcp_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->health = 0;
     *     conf->oauth_metadata = 0;
     *     conf->server_name = { 0, NULL };
     *     conf->server_version = { 0, NULL };
     *     conf->instructions = { 0, NULL };
     *     conf->tools = NULL;
     *     conf->public_base = NULL;
     *     conf->sse_endpoint = NULL;
     */

    conf->enable = NGX_CONF_UNSET;
    conf->max_body_size = NGX_CONF_UNSET_SIZE;
    conf->tool_max_response = NGX_CONF_UNSET_SIZE;
    conf->max_json_depth = NGX_CONF_UNSET_UINT;
    conf->max_json_values = NGX_CONF_UNSET_UINT;
    conf->max_batch = NGX_CONF_UNSET_UINT;
    conf->tools_page_size = NGX_CONF_UNSET_UINT;
    conf->max_client_sessions = NGX_CONF_UNSET_UINT;
    conf->max_session_requests = NGX_CONF_UNSET_UINT;
    conf->tool_timeout = NGX_CONF_UNSET_MSEC;
    conf->sse_ping_interval = NGX_CONF_UNSET_MSEC;
    conf->sse_max_backlog = NGX_CONF_UNSET_SIZE;
    conf->auth = NGX_CONF_UNSET_PTR;
    conf->oauth = NGX_CONF_UNSET_PTR;
    conf->origins = NGX_CONF_UNSET_PTR;
    conf->limits = NGX_CONF_UNSET_PTR;
    conf->limit_status_code = NGX_CONF_UNSET_UINT;
    conf->limit_log_level = NGX_CONF_UNSET_UINT;
    conf->limit_dry_run = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_mcp_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_mcp_loc_conf_t *prev = parent;
    ngx_http_mcp_loc_conf_t *conf = child;

    ngx_http_mcp_main_conf_t  *mmcf;
    ngx_http_core_loc_conf_t  *clcf;

    /* not inherited: a nested location has a handler of its own */

    if (conf->enable == NGX_CONF_UNSET) {
        conf->enable = 0;
    }

    if (conf->server_name.data == NULL) {
        conf->server_name = prev->server_name;
        conf->server_version = prev->server_version;
    }

    if (conf->server_name.data == NULL) {
        ngx_str_set(&conf->server_name, "ngx_mcp_module");
        ngx_str_set(&conf->server_version, NGX_HTTP_MCP_MODULE_VERSION);
    }

    ngx_conf_merge_str_value(conf->instructions, prev->instructions, "");

    /* tools are inherited as a whole, like proxy_set_header */

    if (conf->tools == NULL) {
        conf->tools = prev->tools;
    }

    ngx_conf_merge_size_value(conf->max_body_size, prev->max_body_size,
                              1024 * 1024);
    ngx_conf_merge_size_value(conf->tool_max_response,
                              prev->tool_max_response, 1024 * 1024);
    ngx_conf_merge_uint_value(conf->max_json_depth, prev->max_json_depth,
                              64);
    ngx_conf_merge_uint_value(conf->max_json_values, prev->max_json_values,
                              50000);
    ngx_conf_merge_uint_value(conf->max_batch, prev->max_batch, 32);
    ngx_conf_merge_uint_value(conf->max_client_sessions,
                              prev->max_client_sessions, 100);
    ngx_conf_merge_uint_value(conf->max_session_requests,
                              prev->max_session_requests, 16);

    if (conf->max_session_requests > 65535) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mcp_max_session_requests\" must be "
                           "at most 65535");
        return NGX_CONF_ERROR;
    }
    ngx_conf_merge_uint_value(conf->tools_page_size, prev->tools_page_size,
                              100);
    ngx_conf_merge_msec_value(conf->tool_timeout, prev->tool_timeout, 60000);
    ngx_conf_merge_msec_value(conf->sse_ping_interval,
                              prev->sse_ping_interval, 15000);
    ngx_conf_merge_size_value(conf->sse_max_backlog, prev->sse_max_backlog,
                              1024 * 1024);

    if (conf->public_base == NULL) {
        conf->public_base = prev->public_base;
    }

    if (conf->sse_endpoint == NULL) {
        conf->sse_endpoint = prev->sse_endpoint;
    }

    ngx_conf_merge_ptr_value(conf->auth, prev->auth, NULL);
    ngx_conf_merge_ptr_value(conf->oauth, prev->oauth, NULL);

    if (conf->oauth == NULL
        && (conf->oauth_metadata
            || (conf->auth && ngx_http_mcp_auth_jwt(conf->auth))))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" requires \"mcp_oauth\" here or in an "
                           "enclosing block", conf->oauth_metadata
                           ? "mcp_oauth_metadata" : "mcp_auth jwt");
        return NGX_CONF_ERROR;
    }
    ngx_conf_merge_ptr_value(conf->origins, prev->origins, NULL);

    /* limits are inherited as a whole, like limit_req */
    ngx_conf_merge_ptr_value(conf->limits, prev->limits, NULL);
    ngx_conf_merge_uint_value(conf->limit_status_code,
                              prev->limit_status_code,
                              NGX_HTTP_TOO_MANY_REQUESTS);
    ngx_conf_merge_uint_value(conf->limit_log_level, prev->limit_log_level,
                              NGX_LOG_ERR);
    ngx_conf_merge_value(conf->limit_dry_run, prev->limit_dry_run, 0);

    if (conf->enable || conf->notify) {
        /*
         * In an MCP location mcp_max_body_size is nginx's own limit too;
         * a 413 of nginx's is turned into a JSON-RPC error like ours.
         */

        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        clcf->client_max_body_size = conf->max_body_size;

        mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

        if (mmcf->session_zone == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mcp\" requires \"mcp_session_zone\" "
                               "in the http block");
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mcp_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_mcp_add_variables(cf);
}


static ngx_int_t
ngx_http_mcp_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_mcp_main_conf_t   *mmcf;
    ngx_http_core_main_conf_t  *cmcf;

    static ngx_str_t  request_id = ngx_string("request_id");

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /* tool calls carry it as X-Request-ID */

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

    mmcf->request_id = ngx_http_get_variable_index(cf, &request_id);
    if (mmcf->request_id == NGX_ERROR) {
        return NGX_ERROR;
    }

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_mcp_auth_handler;

    return ngx_http_mcp_tool_filter_init(cf);
}


static ngx_int_t
ngx_http_mcp_init_process(ngx_cycle_t *cycle)
{
    ngx_str_t                  instance;
    ngx_http_mcp_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mcp_module);

    /* only workers, and only where MCP is configured */

    if ((ngx_process != NGX_PROCESS_WORKER
         && ngx_process != NGX_PROCESS_SINGLE)
        || mmcf == NULL || mmcf->session_zone == NULL)
    {
        return NGX_OK;
    }

    ngx_http_mcp_sse_init_process();

    if (ngx_http_mcp_metrics_init_process(cycle, mmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_mcp_session_instance(mmcf->session_zone, &instance);

    if (ngx_http_mcp_ipc_init_process(cycle, &instance) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_mcp_redis_init_process(cycle, mmcf);
}


static void
ngx_http_mcp_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_mcp_redis_exit_process();
    ngx_http_mcp_metrics_exit_process();
}


static char *
ngx_http_mcp(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (ngx_http_mcp_has_handler(mlcf)) {
        return "is duplicate";
    }

    mlcf->enable = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_server_info(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    ngx_str_t  *value;

    if (mlcf->server_name.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[2].len == 0) {
        return "takes a non-empty name and version";
    }

    if (ngx_http_mcp_conf_text(cf, &value[1], "name") != NGX_CONF_OK
        || ngx_http_mcp_conf_text(cf, &value[2], "version") != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    mlcf->server_name = value[1];
    mlcf->server_version = value[2];

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_notify(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (ngx_http_mcp_has_handler(mlcf)) {
        return "is duplicate";
    }

    mlcf->notify = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_notify_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;
    ngx_http_mcp_main_conf_t  *mmcf;

    if (ngx_http_mcp_has_handler(mlcf)) {
        return "is duplicate";
    }

    /* the counters' zone is made with the session zone */

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

    if (mmcf->session_zone == NULL) {
        return "requires \"mcp_session_zone\" before it in the http block";
    }

    mlcf->metrics = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_metrics_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_health(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (ngx_http_mcp_has_handler(mlcf)) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "live") == 0) {
        mlcf->health = NGX_HTTP_MCP_HEALTH_LIVE;

    } else if (ngx_strcmp(value[1].data, "ready") == 0) {
        mlcf->health = NGX_HTTP_MCP_HEALTH_READY;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", it must be "
                           "\"live\" or \"ready\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mcp_health_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_tool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_loc_conf_t *mlcf = conf;

    u_char               *p;
    ngx_str_t            *value, s, uri;
    ngx_uint_t            i;
    ngx_http_mcp_tool_t  *tool, *t;

    value = cf->args->elts;

    /* 2025-11-25: 1 to 128 of A-Z a-z 0-9 _ - . */

    if (value[1].len == 0 || value[1].len > NGX_HTTP_MCP_TOOL_NAME_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid tool name \"%V\": it must have "
                           "1 to 128 characters", &value[1]);
        return NGX_CONF_ERROR;
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9')
              || *p == '_' || *p == '-' || *p == '.'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid tool name \"%V\": only letters, "
                               "digits, \"_\", \"-\" and \".\" are allowed",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (mlcf->tools == NULL) {
        mlcf->tools = ngx_array_create(cf->pool, 4,
                                       sizeof(ngx_http_mcp_tool_t));
        if (mlcf->tools == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    t = mlcf->tools->elts;

    for (i = 0; i < mlcf->tools->nelts; i++) {
        if (t[i].name.len == value[1].len
            && ngx_strncmp(t[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate tool name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    tool = ngx_array_push(mlcf->tools);
    if (tool == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(tool, sizeof(ngx_http_mcp_tool_t));

    tool->name = value[1];
    tool->timeout = NGX_CONF_UNSET_MSEC;

    if (ngx_http_mcp_tool_metric(cf, tool) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    uri = value[2];

    if (uri.len == 0 || uri.data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tool \"%V\": invalid URI \"%V\", it must start "
                           "with \"/\"", &value[1], &uri);
        return NGX_CONF_ERROR;
    }

    p = ngx_strlchr(uri.data, uri.data + uri.len, '?');

    if (p) {
        tool->args.data = p + 1;
        tool->args.len = uri.data + uri.len - p - 1;
        uri.len = p - uri.data;
    }

    tool->uri = uri;

    for (i = 3; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "description=", 12) == 0) {
            tool->description.data = value[i].data + 12;
            tool->description.len = value[i].len - 12;

            if (ngx_http_mcp_conf_text(cf, &tool->description, "description")
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "title=", 6) == 0) {
            tool->title.data = value[i].data + 6;
            tool->title.len = value[i].len - 6;

            if (ngx_http_mcp_conf_text(cf, &tool->title, "title")
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "input_schema=", 13) == 0) {
            s.data = value[i].data + 13;
            s.len = value[i].len - 13;

            tool->input_schema = ngx_http_mcp_load_schema(cf, &tool->name,
                                                          "input_schema", &s);
            if (tool->input_schema == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "output_schema=", 14) == 0) {
            s.data = value[i].data + 14;
            s.len = value[i].len - 14;

            tool->output_schema = ngx_http_mcp_load_schema(cf, &tool->name,
                                                           "output_schema",
                                                           &s);
            if (tool->output_schema == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "scopes=", 7) == 0) {
            if (ngx_http_mcp_tool_scopes(cf, tool, &value[i]) != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            tool->timeout = ngx_parse_time(&s, 0);

            if (tool->timeout == (ngx_msec_t) NGX_ERROR
                || tool->timeout == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "tool \"%V\": invalid timeout \"%V\"",
                                   &tool->name, &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tool \"%V\": invalid parameter \"%V\"",
                           &tool->name, &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_tool_scopes(ngx_conf_t *cf, ngx_http_mcp_tool_t *tool,
    ngx_str_t *value)
{
    ngx_str_t  list;

    /* "scopes=a,b": a client needs all of them to see and call the tool */

    list.data = value->data + 7;
    list.len = value->len - 7;

    if (ngx_http_mcp_oauth_scopes(cf, &list, &tool->scopes) == NGX_CONF_OK) {
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "tool \"%V\": invalid \"%V\"", &tool->name, value);

    return NGX_CONF_ERROR;
}


static json_t *
ngx_http_mcp_load_schema(ngx_conf_t *cf, ngx_str_t *tool, const char *what,
    ngx_str_t *file)
{
    json_t              *schema, *type;
    json_error_t         err;
    ngx_str_t            path;
    ngx_pool_cleanup_t  *cln;

    path = *file;

    /* relative to the configuration file's directory, like "include" */

    if (path.len == 0 || ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tool \"%V\": invalid %s file \"%V\"",
                           tool, what, file);
        return NULL;
    }

    schema = json_load_file((char *) path.data, JSON_REJECT_DUPLICATES, &err);

    if (schema == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tool \"%V\": %s \"%V\" is not valid JSON: "
                           "%s (line %d, column %d)", tool, what, &path,
                           err.text, err.line, err.column);
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        json_decref(schema);
        return NULL;
    }

    cln->handler = ngx_http_mcp_json_cleanup;
    cln->data = schema;

    if (!json_is_object(schema)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tool \"%V\": %s \"%V\" is not a JSON object",
                           tool, what, &path);
        return NULL;
    }

    /* MCP tool schemas describe objects */

    type = json_object_get(schema, "type");

    if (!json_is_string(type)
        || ngx_strcmp(json_string_value(type), "object") != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tool \"%V\": %s \"%V\" must have "
                           "\"type\": \"object\"", tool, what, &path);
        return NULL;
    }

    return schema;
}


static char *
ngx_http_mcp_conf_text(ngx_conf_t *cf, ngx_str_t *value, const char *what)
{
    json_t  *s;

    /* text that reaches clients inside JSON must be UTF-8 */

    s = json_stringn((char *) value->data, value->len);

    if (s == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s \"%V\" is not valid UTF-8", what, value);
        return NGX_CONF_ERROR;
    }

    json_decref(s);

    return NGX_CONF_OK;
}


static char *
ngx_http_mcp_instructions_check(ngx_conf_t *cf, void *post, void *data)
{
    return ngx_http_mcp_conf_text(cf, data, "instructions");
}


static void
ngx_http_mcp_json_cleanup(void *data)
{
    json_decref(data);
}


ngx_int_t
ngx_http_mcp_conf_zone(ngx_conf_t *cf, ngx_str_t *value, ngx_str_t *name,
    ssize_t *size)
{
    u_char     *p;
    ngx_str_t   s;

    /* "zone=NAME:SIZE", as limit_req_zone has it */

    name->data = value->data + 5;

    p = (u_char *) ngx_strchr(name->data, ':');

    if (p == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", value);
        return NGX_ERROR;
    }

    name->len = p - name->data;

    s.data = p + 1;
    s.len = value->data + value->len - s.data;

    *size = ngx_parse_size(&s);

    if (*size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", value);
        return NGX_ERROR;
    }

    if (*size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", value);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_tool_metric(ngx_conf_t *cf, ngx_http_mcp_tool_t *tool)
{
    ngx_str_t                 *name;
    ngx_uint_t                 i;
    ngx_http_mcp_main_conf_t  *mmcf;

    /* tools of one name, wherever declared, are one series of metrics */

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mcp_module);

    if (mmcf->tool_names == NULL) {
        mmcf->tool_names = ngx_array_create(cf->pool, 8, sizeof(ngx_str_t));
        if (mmcf->tool_names == NULL) {
            return NGX_ERROR;
        }
    }

    name = mmcf->tool_names->elts;

    for (i = 0; i < mmcf->tool_names->nelts; i++) {
        if (name[i].len == tool->name.len
            && ngx_strncmp(name[i].data, tool->name.data, tool->name.len)
               == 0)
        {
            tool->metric = i;
            return NGX_OK;
        }
    }

    name = ngx_array_push(mmcf->tool_names);
    if (name == NULL) {
        return NGX_ERROR;
    }

    *name = tool->name;
    tool->metric = mmcf->tool_names->nelts - 1;

    return NGX_OK;
}
