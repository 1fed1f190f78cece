
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include "ngx_http_mcp_module.h"


/*
 * Redis, shared by the hosts of one deployment: configuration, and each
 * worker's two connections (commands, and its subscription), driven by
 * hiredis's asynchronous API inside nginx's event loop.
 *
 * The adapter is ours.  hiredis owns the socket: it connects, reads,
 * writes and closes it; nginx only watches it, through a connection
 * structure that is given back, never closed, when hiredis lets go.
 * Events are level-triggered, since hiredis reads once per call.  hiredis
 * 0.14 has no timeouts: nginx timers bound connecting (until the
 * connection is usable: authenticated, database selected, subscribed)
 * and each keepalive PING.  Addresses are resolved when the configuration
 * is read, so no worker ever waits for DNS.
 *
 * Any failure drops both connections and tries again after a delay that
 * doubles up to a bound, with jitter so a fleet of workers does not
 * reconnect in step.
 */


#define NGX_HTTP_MCP_REDIS_PORT         6379
#define NGX_HTTP_MCP_REDIS_RETRY_MIN    100
#define NGX_HTTP_MCP_REDIS_RETRY_MAX    5000
#define NGX_HTTP_MCP_REDIS_PING         2000

#define NGX_HTTP_MCP_REDIS_KEY_LEN      256

/* an owner registered again after an outage, until its stream's keepalive */
#define NGX_HTTP_MCP_REDIS_OWNER_TTL    60000

/* as for messages between the workers of one host */
#define NGX_HTTP_MCP_REDIS_ANSWER       5000

#define NGX_HTTP_MCP_REDIS_COMMANDS     0
#define NGX_HTTP_MCP_REDIS_SUBSCRIBER   1


typedef struct {
    redisAsyncContext        *ac;
    ngx_connection_t         *connection;
    const char               *role;
    unsigned                  ready:1;
} ngx_http_mcp_redis_link_t;


/* a message for a stream on another host, waiting for its answer */
struct ngx_http_mcp_redis_msg_s {
    ngx_rbtree_node_t               node;       /* key: sequence number */
    ngx_http_mcp_ipc_handler_pt     handler;
    void                           *data;
    ngx_event_t                     timer;
    ngx_http_mcp_redis_cmd_t       *publish;
    unsigned                        published:1;
};


struct ngx_http_mcp_redis_cmd_s {
    ngx_http_mcp_redis_handler_pt   handler;
    void                           *data;
    ngx_event_t                     timer;
};


typedef struct {
    ngx_http_mcp_redis_conf_t  *conf;
    ngx_shm_zone_t             *zone;       /* the sessions */
    ngx_str_t                   node;
    ngx_str_t                   channel;    /* this worker's */
    ngx_http_mcp_redis_link_t   link[2];
    ngx_event_t                 timer;      /* connect, retry */
    ngx_event_t                 ping;
    ngx_event_t                 pong;       /* the PING's deadline */
    ngx_uint_t                  failures;
    ngx_uint_t                  reconnects;
    ngx_rbtree_t                pending;    /* messages sent, by number */
    ngx_rbtree_node_t           sentinel;
    ngx_rbtree_key_t            seq;
    ngx_msec_t                  up_since;
    ngx_log_t                  *log;
    unsigned                    up:1;
    unsigned                    connecting:1;
    unsigned                    dropping:1;
    unsigned                    exiting:1;
    unsigned                    waiting_pong:1;
} ngx_http_mcp_redis_t;


static void ngx_http_mcp_redis_connect(void);
static ngx_int_t ngx_http_mcp_redis_open(ngx_http_mcp_redis_link_t *link);
static void ngx_http_mcp_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_mcp_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_mcp_redis_setup_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mcp_redis_subscribed(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_mcp_redis_ready(void);
static void ngx_http_mcp_redis_drop(const char *why);
static void ngx_http_mcp_redis_timer(ngx_event_t *ev);
static void ngx_http_mcp_redis_ping(ngx_event_t *ev);
static void ngx_http_mcp_redis_pong(redisAsyncContext *ac, void *reply,
    void *privdata);
static void ngx_http_mcp_redis_pong_timeout(ngx_event_t *ev);
static void ngx_http_mcp_redis_read(ngx_event_t *ev);
static void ngx_http_mcp_redis_write(ngx_event_t *ev);
static void ngx_http_mcp_redis_add_read(void *privdata);
static void ngx_http_mcp_redis_del_read(void *privdata);
static void ngx_http_mcp_redis_add_write(void *privdata);
static void ngx_http_mcp_redis_del_write(void *privdata);
static void ngx_http_mcp_redis_watch(ngx_http_mcp_redis_link_t *link,
    ngx_int_t event, ngx_uint_t on);
static void ngx_http_mcp_redis_cleanup(void *privdata);
static void ngx_http_mcp_redis_reply(redisAsyncContext *ac, void *reply,
    void *privdata);
static void ngx_http_mcp_redis_command_timeout(ngx_event_t *ev);
static ngx_int_t ngx_http_mcp_redis_register(void *data, ngx_str_t *id,
    ngx_http_mcp_session_info_t *info);
static void ngx_http_mcp_redis_registered(void *data, void *reply);
static ngx_int_t ngx_http_mcp_redis_session_key(ngx_str_t *id,
    u_char *key, size_t *len);
static ngx_int_t ngx_http_mcp_redis_session_write(ngx_str_t *id,
    ngx_http_mcp_session_info_t *info, ngx_uint_t nx,
    ngx_http_mcp_redis_handler_pt handler, void *data,
    ngx_http_mcp_redis_cmd_t **cmdp);
static ngx_int_t ngx_http_mcp_redis_key(char kind, ngx_str_t *id,
    u_char *key, size_t *len);
static void ngx_http_mcp_redis_message(u_char *data, size_t len);
static void ngx_http_mcp_redis_published(void *data, void *reply);
static void ngx_http_mcp_redis_msg_timeout(ngx_event_t *ev);
static void ngx_http_mcp_redis_msg_done(ngx_http_mcp_redis_msg_t *msg,
    ngx_int_t rc);
static void ngx_http_mcp_redis_answer(u_char *channel, size_t len,
    u_char *seq, size_t seqlen, ngx_int_t rc);
static void ngx_http_mcp_redis_close_owner(void *data, void *reply);
static void ngx_http_mcp_redis_still_ours(void *data, void *reply);


static ngx_http_mcp_redis_t  ngx_http_mcp_redis;


char *
ngx_http_mcp_redis_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mcp_main_conf_t *mmcf = conf;

    u_char                     *p;
    size_t                      len;
    ngx_url_t                   u;
    ngx_str_t                  *value, s;
    ngx_int_t                   n;
    ngx_uint_t                  i;
    ngx_msec_t                  t;
    struct sockaddr_un         *sun;
    ngx_http_mcp_redis_conf_t  *rcf;

    if (mmcf->redis) {
        return "is duplicate";
    }

    value = cf->args->elts;

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mcp_redis_conf_t));
    if (rcf == NULL) {
        return NGX_CONF_ERROR;
    }

    rcf->name = value[1];
    ngx_str_set(&rcf->prefix, "mcp:");
    rcf->connect_timeout = 1000;
    rcf->command_timeout = 1000;

    /* resolved now: a worker must never wait for DNS */

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.default_port = NGX_HTTP_MCP_REDIS_PORT;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in \"%V\"",
                               u.err, &u.url);
        }

        return NGX_CONF_ERROR;
    }

    if (u.naddrs == 0 || u.uri.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Redis address \"%V\"", &u.url);
        return NGX_CONF_ERROR;
    }

    if (u.family == AF_UNIX) {
        sun = (struct sockaddr_un *) u.addrs[0].sockaddr;
        len = ngx_strlen(sun->sun_path);

        rcf->path = ngx_pnalloc(cf->pool, len + 1);
        if (rcf->path == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(rcf->path, sun->sun_path, len + 1);

    } else {
        rcf->host = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
        if (rcf->host == NULL) {
            return NGX_CONF_ERROR;
        }

        len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                            rcf->host, NGX_SOCKADDR_STRLEN, 0);
        rcf->host[len] = '\0';
        rcf->port = u.port;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);

            if (n == NGX_ERROR || n > 65535) {
                goto invalid;
            }

            rcf->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            rcf->password.data = value[i].data + 9;
            rcf->password.len = value[i].len - 9;

            if (rcf->password.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rcf->prefix.data = value[i].data + 7;
            rcf->prefix.len = value[i].len - 7;

            for (p = rcf->prefix.data;
                 p < rcf->prefix.data + rcf->prefix.len;
                 p++)
            {
                if (*p < 0x21 || *p > 0x7e) {
                    goto invalid;
                }
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "connect_timeout=", 16) == 0
            || ngx_strncmp(value[i].data, "command_timeout=", 16) == 0)
        {
            s.data = value[i].data + 16;
            s.len = value[i].len - 16;

            t = ngx_parse_time(&s, 0);

            if (t == (ngx_msec_t) NGX_ERROR || t == 0) {
                goto invalid;
            }

            if (ngx_strncmp(value[i].data, "connect", 7) == 0) {
                rcf->connect_timeout = t;

            } else {
                rcf->command_timeout = t;
            }

            continue;
        }

        goto invalid;
    }

    mmcf->redis = rcf;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
}


ngx_int_t
ngx_http_mcp_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_mcp_main_conf_t *mmcf)
{
    u_char                *p;
    ngx_http_mcp_redis_t  *rd;

    rd = &ngx_http_mcp_redis;

    if (mmcf->redis == NULL) {
        return NGX_OK;
    }

    ngx_memzero(rd, sizeof(ngx_http_mcp_redis_t));

    rd->conf = mmcf->redis;
    rd->zone = mmcf->session_zone;
    rd->node = mmcf->node_id;
    rd->log = cycle->log;

    rd->link[NGX_HTTP_MCP_REDIS_COMMANDS].role = "command";
    rd->link[NGX_HTTP_MCP_REDIS_SUBSCRIBER].role = "subscriber";

    /* the worker's channel: <prefix>w:<node>:<pid> */

    rd->channel.data = ngx_pnalloc(cycle->pool, rd->conf->prefix.len
                                   + rd->node.len + NGX_INT64_LEN + 4);
    if (rd->channel.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(rd->channel.data, "%Vw:%V:%P%Z", &rd->conf->prefix,
                    &rd->node, ngx_pid);
    rd->channel.len = p - rd->channel.data - 1;

    ngx_rbtree_init(&rd->pending, &rd->sentinel, ngx_rbtree_insert_value);

    rd->timer.handler = ngx_http_mcp_redis_timer;
    rd->timer.log = cycle->log;
    rd->timer.data = rd;
    rd->timer.cancelable = 1;

    rd->ping.handler = ngx_http_mcp_redis_ping;
    rd->ping.log = cycle->log;
    rd->ping.data = rd;
    rd->ping.cancelable = 1;

    rd->pong.handler = ngx_http_mcp_redis_pong_timeout;
    rd->pong.log = cycle->log;
    rd->pong.data = rd;
    rd->pong.cancelable = 1;

    ngx_http_mcp_redis_connect();

    return NGX_OK;
}


void
ngx_http_mcp_redis_exit_process(void)
{
    ngx_http_mcp_redis_t  *rd;

    rd = &ngx_http_mcp_redis;

    if (rd->conf == NULL) {
        return;
    }

    rd->exiting = 1;
    ngx_http_mcp_redis_drop(NULL);
}


ngx_int_t
ngx_http_mcp_redis_state(ngx_str_t *reason)
{
    ngx_http_mcp_redis_t  *rd;

    /* NGX_DECLINED: not configured; NGX_OK: usable; NGX_ERROR: not now */

    rd = &ngx_http_mcp_redis;

    if (rd->conf == NULL) {
        return NGX_DECLINED;
    }

    if (rd->up) {
        return NGX_OK;
    }

    ngx_str_set(reason, "not connected");

    return NGX_ERROR;
}


ngx_uint_t
ngx_http_mcp_redis_reconnects(void)
{
    return ngx_http_mcp_redis.reconnects;
}


void
ngx_http_mcp_redis_failed(const char *why)
{
    if (ngx_http_mcp_redis.up) {
        ngx_http_mcp_redis_drop(why);
    }
}


ngx_uint_t
ngx_http_mcp_redis_settling(void)
{
    ngx_http_mcp_redis_t  *rd;

    /*
     * Just back after an outage: Redis may have restarted empty, and
     * the other hosts may not have registered their sessions again yet
     * (each reconnects within RETRY_MAX), so "no such session" is not
     * to be believed for a while.
     */

    rd = &ngx_http_mcp_redis;

    return rd->up && rd->reconnects
           && (ngx_msec_int_t) (ngx_current_msec - rd->up_since)
              < NGX_HTTP_MCP_REDIS_RETRY_MAX + 1000;
}


ngx_int_t
ngx_http_mcp_redis_command(ngx_http_mcp_redis_handler_pt handler,
    void *data, ngx_uint_t argc, const char **argv, const size_t *argvlen,
    ngx_http_mcp_redis_cmd_t **cmdp)
{
    ngx_http_mcp_redis_t      *rd;
    ngx_http_mcp_redis_cmd_t  *cmd;

    /*
     * The handler gets the reply, or NULL when there is none: Redis is
     * down, went down meanwhile, or did not answer in command_timeout.
     * It is called once, never from within this call.
     */

    rd = &ngx_http_mcp_redis;

    if (cmdp) {
        *cmdp = NULL;
    }

    if (!rd->up) {
        return NGX_DECLINED;
    }

    cmd = ngx_calloc(sizeof(ngx_http_mcp_redis_cmd_t), rd->log);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    cmd->handler = handler;
    cmd->data = data;

    if (redisAsyncCommandArgv(rd->link[NGX_HTTP_MCP_REDIS_COMMANDS].ac,
                              ngx_http_mcp_redis_reply, cmd, (int) argc,
                              argv, argvlen)
        != REDIS_OK)
    {
        ngx_free(cmd);
        return NGX_ERROR;
    }

    if (handler) {
        cmd->timer.handler = ngx_http_mcp_redis_command_timeout;
        cmd->timer.data = cmd;
        cmd->timer.log = rd->log;
        cmd->timer.cancelable = 1;

        ngx_add_timer(&cmd->timer, rd->conf->command_timeout);
    }

    if (cmdp) {
        *cmdp = cmd;
    }

    return NGX_OK;
}


void
ngx_http_mcp_redis_cancel(ngx_http_mcp_redis_cmd_t *cmd)
{
    /* whoever waited is gone; the reply is dropped when it comes */

    cmd->handler = NULL;
    cmd->data = NULL;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }
}


static void
ngx_http_mcp_redis_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    ngx_http_mcp_redis_cmd_t  *cmd = privdata;

    void                           *data;
    ngx_http_mcp_redis_handler_pt   handler;

    /* hiredis calls this once per command: with the reply, or NULL */

    handler = cmd->handler;
    data = cmd->data;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    ngx_free(cmd);

    if (handler) {
        handler(data, reply);
    }
}


static void
ngx_http_mcp_redis_command_timeout(ngx_event_t *ev)
{
    void                           *data;
    ngx_http_mcp_redis_cmd_t       *cmd;
    ngx_http_mcp_redis_handler_pt   handler;

    cmd = ev->data;

    handler = cmd->handler;
    data = cmd->data;

    /* the reply, if it ever comes, finds nobody; the struct goes then */

    cmd->handler = NULL;
    cmd->data = NULL;

    if (handler) {
        handler(data, NULL);
    }

    ngx_http_mcp_redis_drop("no answer within command_timeout");
}


static void
ngx_http_mcp_redis_connect(void)
{
    ngx_uint_t             i;
    ngx_http_mcp_redis_t  *rd;

    rd = &ngx_http_mcp_redis;

    rd->connecting = 1;

    for (i = 0; i < 2; i++) {
        if (ngx_http_mcp_redis_open(&rd->link[i]) != NGX_OK) {
            ngx_http_mcp_redis_drop("cannot connect");
            return;
        }
    }

    /* until both are usable */
    ngx_add_timer(&rd->timer, rd->conf->connect_timeout);
}


static ngx_int_t
ngx_http_mcp_redis_open(ngx_http_mcp_redis_link_t *link)
{
    redisAsyncContext          *ac;
    ngx_connection_t           *c;
    ngx_http_mcp_redis_t       *rd;
    ngx_http_mcp_redis_conf_t  *rcf;

    rd = &ngx_http_mcp_redis;
    rcf = rd->conf;

    /* a numeric address or a path: hiredis does not resolve anything */

    if (rcf->path) {
        ac = redisAsyncConnectUnix((char *) rcf->path);

    } else {
        ac = redisAsyncConnect((char *) rcf->host, rcf->port);
    }

    if (ac == NULL) {
        return NGX_ERROR;
    }

    if (ac->err) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "mcp: redis %V: %s", &rcf->name, ac->errstr);
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    c->data = link;
    c->read->handler = ngx_http_mcp_redis_read;
    c->write->handler = ngx_http_mcp_redis_write;
    c->read->log = rd->log;
    c->write->log = rd->log;

    /*
     * Not idle: a worker on its way out keeps Redis for the requests it
     * still serves; the connections go in exit_process.
     */

    link->ac = ac;
    link->connection = c;
    link->ready = 0;

    ac->data = link;
    ac->ev.data = link;
    ac->ev.addRead = ngx_http_mcp_redis_add_read;
    ac->ev.delRead = ngx_http_mcp_redis_del_read;
    ac->ev.addWrite = ngx_http_mcp_redis_add_write;
    ac->ev.delWrite = ngx_http_mcp_redis_del_write;
    ac->ev.cleanup = ngx_http_mcp_redis_cleanup;

    (void) redisAsyncSetConnectCallback(ac, ngx_http_mcp_redis_connected);
    (void) redisAsyncSetDisconnectCallback(ac,
                                           ngx_http_mcp_redis_disconnected);

    /* the connect completes when the socket turns writable */

    ngx_http_mcp_redis_add_write(link);
    ngx_http_mcp_redis_add_read(link);

    return NGX_OK;
}


static void
ngx_http_mcp_redis_connected(const redisAsyncContext *cac, int status)
{
    redisAsyncContext          *ac = (redisAsyncContext *) cac;
    ngx_http_mcp_redis_link_t  *link = ac->data;

    ngx_uint_t                  level;
    ngx_http_mcp_redis_t       *rd;
    ngx_http_mcp_redis_conf_t  *rcf;

    rd = &ngx_http_mcp_redis;
    rcf = rd->conf;

    if (status != REDIS_OK) {
        /* hiredis frees the context once we return */

        /* an outage is reported once, not at every attempt */

        level = (rd->failures > 1) ? NGX_LOG_INFO : NGX_LOG_ERR;

        ngx_log_error(level, rd->log, 0,
                      "mcp: redis %V: %s connection failed: %s",
                      &rcf->name, link->role, ac->errstr);
        link->ac = NULL;
        ngx_http_mcp_redis_drop(NULL);
        return;
    }

    /* set up in order; the last answer makes the connection usable */

    if (rcf->password.len) {
        (void) redisAsyncCommand(ac, ngx_http_mcp_redis_setup_reply,
                                 (void *) "AUTH", "AUTH %b",
                                 rcf->password.data, rcf->password.len);
    }

    if (link == &rd->link[NGX_HTTP_MCP_REDIS_SUBSCRIBER]) {
        (void) redisAsyncCommand(ac, ngx_http_mcp_redis_subscribed, NULL,
                                 "SUBSCRIBE %b", rd->channel.data,
                                 rd->channel.len);
        return;
    }

    (void) redisAsyncCommand(ac, ngx_http_mcp_redis_setup_reply,
                             (void *) "SELECT", "SELECT %d",
                             (int) rcf->db);
}


static void
ngx_http_mcp_redis_setup_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                 *reply = r;
    ngx_http_mcp_redis_link_t  *link = ac->data;

    ngx_http_mcp_redis_t  *rd;

    rd = &ngx_http_mcp_redis;

    if (reply == NULL) {
        /* the connection went away; its disconnection is handled */
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "mcp: redis %V: %s failed: %*s", &rd->conf->name,
                      (char *) privdata, (size_t) reply->len, reply->str);
        ngx_http_mcp_redis_drop(NULL);
        return;
    }

    if (ngx_strcmp(privdata, "SELECT") == 0) {
        link->ready = 1;
        ngx_http_mcp_redis_ready();
    }
}


static void
ngx_http_mcp_redis_subscribed(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                 *reply = r;
    ngx_http_mcp_redis_link_t  *link = ac->data;

    ngx_http_mcp_redis_t  *rd;

    rd = &ngx_http_mcp_redis;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "mcp: redis %V: SUBSCRIBE failed: %*s",
                      &rd->conf->name, (size_t) reply->len, reply->str);
        ngx_http_mcp_redis_drop(NULL);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    if (reply->element[0]->len == 9
        && ngx_strncmp(reply->element[0]->str, "subscribe", 9) == 0)
    {
        link->ready = 1;
        ngx_http_mcp_redis_ready();
        return;
    }

    if (reply->element[0]->len == 7
        && ngx_strncmp(reply->element[0]->str, "message", 7) == 0
        && reply->element[2]->type == REDIS_REPLY_STRING)
    {
        ngx_http_mcp_redis_message((u_char *) reply->element[2]->str,
                                   reply->element[2]->len);
    }
}


static void
ngx_http_mcp_redis_ready(void)
{
    ngx_uint_t             n, all;
    ngx_http_mcp_redis_t  *rd;

    rd = &ngx_http_mcp_redis;

    if (!rd->link[NGX_HTTP_MCP_REDIS_COMMANDS].ready
        || !rd->link[NGX_HTTP_MCP_REDIS_SUBSCRIBER].ready)
    {
        return;
    }

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }

    rd->up = 1;
    rd->connecting = 0;
    rd->up_since = ngx_current_msec;

    ngx_http_mcp_metrics_redis(1);

    ngx_log_error(NGX_LOG_NOTICE, rd->log, 0, "mcp: redis %V is up%s",
                  &rd->conf->name, rd->failures ? " again" : "");

    rd->failures = 0;

    ngx_add_timer(&rd->ping, NGX_HTTP_MCP_REDIS_PING);

    /*
     * The sessions of this host become known everywhere: those made while
     * Redis was away, and all of them after an outage, since a Redis that
     * restarted may have lost them.
     */

    all = rd->reconnects > 0
          && ngx_http_mcp_session_register_turn(rd->zone,
                                                NGX_HTTP_MCP_REDIS_RETRY_MAX)
             == NGX_OK;

    n = ngx_http_mcp_session_register_all(rd->zone, all,
                                          ngx_http_mcp_redis_register, rd);
    if (n) {
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "mcp: redis %V: %ui sessions registered",
                      &rd->conf->name, n);
    }
}


static void
ngx_http_mcp_redis_drop(const char *why)
{
    ngx_msec_t             delay;
    ngx_uint_t             i, level;
    redisAsyncContext     *ac;
    ngx_http_mcp_redis_t  *rd;

    rd = &ngx_http_mcp_redis;

    /* freeing one context calls back here: once is enough */

    if (rd->dropping) {
        return;
    }

    rd->dropping = 1;

    if (why) {
        level = (rd->failures > 1) ? NGX_LOG_INFO : NGX_LOG_ERR;

        ngx_log_error(level, rd->log, 0, "mcp: redis %V: %s",
                      &rd->conf->name, why);
    }

    if (rd->up && !rd->exiting) {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0, "mcp: redis %V is down",
                      &rd->conf->name);
    }

    rd->up = 0;
    rd->waiting_pong = 0;

    ngx_http_mcp_metrics_redis(0);

    for (i = 0; i < 2; i++) {
        ac = rd->link[i].ac;
        rd->link[i].ac = NULL;
        rd->link[i].ready = 0;

        if (ac) {
            /* inside one of its callbacks, hiredis frees it on return */
            redisAsyncFree(ac);
        }
    }

    /* messages waiting for an answer will not get one now */

    while (rd->pending.root != rd->pending.sentinel) {
        ngx_http_mcp_redis_msg_done(
            (ngx_http_mcp_redis_msg_t *) rd->pending.root, NGX_ABORT);
    }

    if (rd->ping.timer_set) {
        ngx_del_timer(&rd->ping);
    }

    if (rd->pong.timer_set) {
        ngx_del_timer(&rd->pong);
    }

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }

    rd->dropping = 0;
    rd->connecting = 0;

    if (rd->exiting || ngx_exiting || ngx_terminate) {
        return;
    }

    /* 100 ms doubling up to 5 s, each drawn from its upper half */

    delay = NGX_HTTP_MCP_REDIS_RETRY_MIN
            << ngx_min(rd->failures, (ngx_uint_t) 6);
    delay = ngx_min(delay, (ngx_msec_t) NGX_HTTP_MCP_REDIS_RETRY_MAX);
    delay = delay / 2 + (ngx_msec_t) ngx_random() % (delay / 2 + 1);

    rd->failures++;

    ngx_add_timer(&rd->timer, delay);
}


static void
ngx_http_mcp_redis_timer(ngx_event_t *ev)
{
    ngx_http_mcp_redis_t  *rd;

    rd = &ngx_http_mcp_redis;

    if (rd->connecting) {
        ngx_http_mcp_redis_drop("connect timed out");
        return;
    }

    rd->reconnects++;
    ngx_http_mcp_metrics_reconnect();

    ngx_http_mcp_redis_connect();
}


static void
ngx_http_mcp_redis_ping(ngx_event_t *ev)
{
    ngx_http_mcp_redis_t  *rd;

    rd = &ngx_http_mcp_redis;

    /* a Redis that stopped answering leaves the socket open: ask */

    if (!rd->up || rd->waiting_pong) {
        return;
    }

    if (redisAsyncCommand(rd->link[NGX_HTTP_MCP_REDIS_COMMANDS].ac,
                          ngx_http_mcp_redis_pong, NULL, "PING")
        != REDIS_OK)
    {
        ngx_http_mcp_redis_drop("PING could not be sent");
        return;
    }

    rd->waiting_pong = 1;
    ngx_add_timer(&rd->pong, rd->conf->command_timeout);
}


static void
ngx_http_mcp_redis_pong(redisAsyncContext *ac, void *reply, void *privdata)
{
    ngx_http_mcp_redis_t  *rd;

    rd = &ngx_http_mcp_redis;

    if (reply == NULL || !rd->waiting_pong) {
        return;
    }

    rd->waiting_pong = 0;

    if (rd->pong.timer_set) {
        ngx_del_timer(&rd->pong);
    }

    ngx_add_timer(&rd->ping, NGX_HTTP_MCP_REDIS_PING);
}


static void
ngx_http_mcp_redis_pong_timeout(ngx_event_t *ev)
{
    ngx_http_mcp_redis_drop("no answer to PING within command_timeout");
}


static void
ngx_http_mcp_redis_read(ngx_event_t *ev)
{
    ngx_connection_t           *c;
    ngx_http_mcp_redis_link_t  *link;

    c = ev->data;
    link = c->data;

    if (c->close) {
        /* the worker is shutting down */
        ngx_http_mcp_redis.exiting = 1;
        ngx_http_mcp_redis_drop(NULL);
        return;
    }

    if (link->ac) {
        redisAsyncHandleRead(link->ac);
    }
}


static void
ngx_http_mcp_redis_write(ngx_event_t *ev)
{
    ngx_connection_t           *c;
    ngx_http_mcp_redis_link_t  *link;

    c = ev->data;
    link = c->data;

    if (link->ac) {
        redisAsyncHandleWrite(link->ac);
    }
}


static void
ngx_http_mcp_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_mcp_redis_link_t  *link = ac->data;

    /* hiredis frees the context once we return */

    if (link->ac == NULL) {
        /* we let it go ourselves */
        return;
    }

    link->ac = NULL;

    ngx_http_mcp_redis_drop(status == REDIS_OK ? "connection closed"
                                               : ac->errstr);
}


static void
ngx_http_mcp_redis_add_read(void *privdata)
{
    ngx_http_mcp_redis_watch(privdata, NGX_READ_EVENT, 1);
}


static void
ngx_http_mcp_redis_del_read(void *privdata)
{
    ngx_http_mcp_redis_watch(privdata, NGX_READ_EVENT, 0);
}


static void
ngx_http_mcp_redis_add_write(void *privdata)
{
    ngx_http_mcp_redis_watch(privdata, NGX_WRITE_EVENT, 1);
}


static void
ngx_http_mcp_redis_del_write(void *privdata)
{
    ngx_http_mcp_redis_watch(privdata, NGX_WRITE_EVENT, 0);
}


static void
ngx_http_mcp_redis_watch(ngx_http_mcp_redis_link_t *link, ngx_int_t event,
    ngx_uint_t on)
{
    ngx_event_t  *ev;

    /* hiredis's hooks are idempotent; nginx's are not */

    if (link->connection == NULL) {
        return;
    }

    ev = (event == NGX_READ_EVENT) ? link->connection->read
                                   : link->connection->write;

    if (on && !ev->active) {
        (void) ngx_add_event(ev, event, NGX_LEVEL_EVENT);

    } else if (!on && ev->active) {
        (void) ngx_del_event(ev, event, 0);
    }
}


static void
ngx_http_mcp_redis_cleanup(void *privdata)
{
    ngx_http_mcp_redis_link_t  *link = privdata;

    ngx_connection_t  *c;

    /* hiredis closes the socket; nginx stops watching it and lets go */

    c = link->connection;

    if (c == NULL) {
        return;
    }

    ngx_http_mcp_redis_del_read(link);
    ngx_http_mcp_redis_del_write(link);

    link->connection = NULL;

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;
}


/*
 * Sessions in Redis: <prefix>s:<id> holds "<revision> <legacy>", with the
 * session zone's idle_timeout as its lifetime, renewed when a host checks
 * it.
 */

static ngx_int_t
ngx_http_mcp_redis_session_key(ngx_str_t *id, u_char *key, size_t *len)
{
    return ngx_http_mcp_redis_key('s', id, key, len);
}


static ngx_int_t
ngx_http_mcp_redis_key(char kind, ngx_str_t *id, u_char *key, size_t *len)
{
    u_char     *p;
    ngx_str_t  *prefix;

    /* <prefix>s:<id>, the session; <prefix>o:<id>, its stream's owner */

    if (ngx_http_mcp_redis.conf == NULL || !ngx_http_mcp_redis.up) {
        return NGX_DECLINED;
    }

    prefix = &ngx_http_mcp_redis.conf->prefix;

    if (prefix->len + 2 + id->len > NGX_HTTP_MCP_REDIS_KEY_LEN) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key, prefix->data, prefix->len);
    *p++ = kind;
    *p++ = ':';
    p = ngx_cpymem(p, id->data, id->len);

    *len = p - key;

    return NGX_OK;
}


ngx_int_t
ngx_http_mcp_redis_session_set(ngx_str_t *id,
    ngx_http_mcp_session_info_t *info, ngx_http_mcp_redis_handler_pt handler,
    void *data, ngx_http_mcp_redis_cmd_t **cmdp)
{
    return ngx_http_mcp_redis_session_write(id, info, 0, handler, data,
                                            cmdp);
}


static ngx_int_t
ngx_http_mcp_redis_session_write(ngx_str_t *id,
    ngx_http_mcp_session_info_t *info, ngx_uint_t nx,
    ngx_http_mcp_redis_handler_pt handler, void *data,
    ngx_http_mcp_redis_cmd_t **cmdp)
{
    u_char                *p;
    size_t                 len[6];
    ngx_int_t              rc;
    const char            *argv[6];
    ngx_http_mcp_redis_t  *rd;
    u_char                 key[NGX_HTTP_MCP_REDIS_KEY_LEN];
    u_char                 value[NGX_INT_T_LEN * 2 + 3
                                 + NGX_HTTP_MCP_CLIENT_LEN];
    u_char                 ttl[NGX_INT_T_LEN];

    rd = &ngx_http_mcp_redis;

    rc = ngx_http_mcp_redis_session_key(id, key, &len[1]);
    if (rc != NGX_OK) {
        return rc;
    }

    argv[0] = "SET";
    len[0] = 3;
    argv[1] = (char *) key;

    p = ngx_sprintf(value, "%ui %ui", info->version,
                    (ngx_uint_t) info->legacy);

    if (info->client_len) {
        p = ngx_sprintf(p, " %*s", info->client_len, info->client);
    }

    argv[2] = (char *) value;
    len[2] = p - value;

    argv[3] = "PX";
    len[3] = 2;

    p = ngx_sprintf(ttl, "%M", ngx_http_mcp_session_idle_timeout(rd->zone));
    argv[4] = (char *) ttl;
    len[4] = p - ttl;

    argv[5] = "NX";
    len[5] = 2;

    return ngx_http_mcp_redis_command(handler, data, nx ? 6 : 5, argv, len,
                                      cmdp);
}


ngx_int_t
ngx_http_mcp_redis_session_get(ngx_str_t *id,
    ngx_http_mcp_redis_handler_pt handler, void *data,
    ngx_http_mcp_redis_cmd_t **cmdp)
{
    u_char                *p;
    size_t                 len[3];
    ngx_int_t              rc;
    const char            *argv[3];
    ngx_http_mcp_redis_t  *rd;
    u_char                 key[NGX_HTTP_MCP_REDIS_KEY_LEN];
    u_char                 ttl[NGX_INT_T_LEN];

    rd = &ngx_http_mcp_redis;

    rc = ngx_http_mcp_redis_session_key(id, key, &len[1]);
    if (rc != NGX_OK) {
        return rc;
    }

    /* the check renews the lifetime: a session used anywhere lives on */

    argv[0] = "PEXPIRE";
    len[0] = 7;
    argv[1] = (char *) key;

    p = ngx_sprintf(ttl, "%M", ngx_http_mcp_session_idle_timeout(rd->zone));
    argv[2] = (char *) ttl;
    len[2] = p - ttl;

    rc = ngx_http_mcp_redis_command(NULL, NULL, 3, argv, len, NULL);
    if (rc != NGX_OK) {
        return rc;
    }

    argv[0] = "GET";
    len[0] = 3;

    return ngx_http_mcp_redis_command(handler, data, 2, argv, len, cmdp);
}


ngx_int_t
ngx_http_mcp_redis_session_del(ngx_str_t *id,
    ngx_http_mcp_redis_handler_pt handler, void *data,
    ngx_http_mcp_redis_cmd_t **cmdp)
{
    size_t       len[2];
    ngx_int_t    rc;
    const char  *argv[2];
    u_char       key[NGX_HTTP_MCP_REDIS_KEY_LEN];

    rc = ngx_http_mcp_redis_session_key(id, key, &len[1]);
    if (rc != NGX_OK) {
        return rc;
    }

    argv[0] = "DEL";
    len[0] = 3;
    argv[1] = (char *) key;

    return ngx_http_mcp_redis_command(handler, data, 2, argv, len, cmdp);
}


ngx_int_t
ngx_http_mcp_redis_session_parse(void *r, ngx_http_mcp_session_info_t *info)
{
    redisReply  *reply = r;

    u_char      *p, *last;
    ngx_int_t    version, legacy;

    /* NGX_OK: a session; NGX_DECLINED: none; NGX_ERROR: no answer */

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        return NGX_ERROR;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        return NGX_DECLINED;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        return NGX_ERROR;
    }

    p = (u_char *) reply->str;
    last = p + reply->len;

    /* "<revision> <legacy>"; anything else is not one of ours */

    version = 0;

    while (p < last && *p >= '0' && *p <= '9' && version < 100) {
        version = version * 10 + (*p++ - '0');
    }

    /* "<revision> <legacy>[ <client>]" */

    if (last - p < 2 || *p != ' ' || (p[1] != '0' && p[1] != '1')
        || version > NGX_HTTP_MCP_V_LATEST
        || (last - p > 2
            && (p[2] != ' ' || last - p - 3 == 0
                || last - p - 3 > NGX_HTTP_MCP_CLIENT_LEN)))
    {
        return NGX_ERROR;
    }

    legacy = p[1] - '0';

    info->version = version;
    info->legacy = legacy;
    info->client_len = 0;

    if (last - p > 2) {
        info->client_len = last - p - 3;
        ngx_memcpy(info->client, p + 3, info->client_len);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mcp_redis_register(void *data, ngx_str_t *id,
    ngx_http_mcp_session_info_t *info)
{
    u_char  *copy;

    /* called with the session zone locked: it only queues the command */

    copy = ngx_alloc(NGX_HTTP_MCP_SESSION_ID_LEN, ngx_http_mcp_redis.log);
    if (copy == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(copy, id->data, NGX_HTTP_MCP_SESSION_ID_LEN);

    /*
     * A legacy session not initialized here may have been initialized
     * through another host: its record is then not overwritten.
     */

    if (ngx_http_mcp_redis_session_write(id, info, info->version == 0,
                                         ngx_http_mcp_redis_registered,
                                         copy, NULL)
        != NGX_OK)
    {
        ngx_free(copy);
        return NGX_ERROR;
    }

    /* and where its stream is, if on this host */

    if (info->stream) {
        (void) ngx_http_mcp_redis_owner_set(id, info->stream,
                                            NGX_HTTP_MCP_REDIS_OWNER_TTL,
                                            NULL, NULL, NULL);
    }

    return NGX_OK;
}


static void
ngx_http_mcp_redis_registered(void *data, void *r)
{
    u_char      *copy = data;
    redisReply  *reply = r;

    ngx_str_t  id;

    /* a nil answer to SET NX: the record is there already, which is fine */

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        /* tried again when Redis is back */
        id.data = copy;
        id.len = NGX_HTTP_MCP_SESSION_ID_LEN;
        ngx_http_mcp_session_mark(ngx_http_mcp_redis.zone, &id, 0);
    }

    ngx_free(copy);
}


/*
 * Messages for a stream held on another host: PUBLISHed to the channel
 * of the worker holding it, as "<type> <number> <answer channel> <session>
 * <payload>"; that worker puts it on the stream and PUBLISHes
 * "A <number> <1|0>" back.  A PUBLISH that reaches nobody means the worker
 * is gone.
 */

ngx_int_t
ngx_http_mcp_redis_send(ngx_str_t *owner, ngx_uint_t type, ngx_str_t *id,
    u_char *payload, size_t len, ngx_http_mcp_ipc_handler_pt handler,
    void *data, ngx_http_mcp_redis_msg_t **msgp)
{
    u_char                    *frame, *p;
    size_t                     argl[3];
    ngx_int_t                  rc;
    ngx_str_t                 *prefix;
    const char                *argv[3];
    ngx_http_mcp_redis_t      *rd;
    ngx_http_mcp_redis_msg_t  *msg;
    u_char                     channel[NGX_HTTP_MCP_REDIS_KEY_LEN];

    rd = &ngx_http_mcp_redis;
    *msgp = NULL;

    if (rd->conf == NULL || !rd->up) {
        return NGX_BUSY;
    }

    prefix = &rd->conf->prefix;

    if (prefix->len + 2 + owner->len > NGX_HTTP_MCP_REDIS_KEY_LEN) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(channel, prefix->data, prefix->len);
    *p++ = 'w';
    *p++ = ':';
    p = ngx_cpymem(p, owner->data, owner->len);

    argv[0] = "PUBLISH";
    argl[0] = 7;
    argv[1] = (char *) channel;
    argl[1] = p - channel;

    msg = ngx_calloc(sizeof(ngx_http_mcp_redis_msg_t), rd->log);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    frame = ngx_alloc(rd->channel.len + id->len + len + NGX_INT64_LEN + 8,
                      rd->log);
    if (frame == NULL) {
        ngx_free(msg);
        return NGX_ERROR;
    }

    msg->node.key = ++rd->seq;

    p = ngx_sprintf(frame, "%c %ui %V %V ",
                    type == NGX_HTTP_MCP_IPC_DELIVER ? 'D' : 'C',
                    (ngx_uint_t) msg->node.key, &rd->channel, id);

    if (len) {
        p = ngx_cpymem(p, payload, len);
    }

    argv[2] = (char *) frame;
    argl[2] = p - frame;

    /* hiredis copies the command: the frame can go at once */

    rc = ngx_http_mcp_redis_command(ngx_http_mcp_redis_published, msg, 3,
                                    argv, argl, &msg->publish);
    ngx_free(frame);

    if (rc != NGX_OK) {
        ngx_free(msg);
        return (rc == NGX_DECLINED) ? NGX_BUSY : NGX_ERROR;
    }

    msg->handler = handler;
    msg->data = data;

    msg->timer.handler = ngx_http_mcp_redis_msg_timeout;
    msg->timer.data = msg;
    msg->timer.log = rd->log;

    /* not cancelable: a worker leaving finishes what it sent */
    ngx_add_timer(&msg->timer, NGX_HTTP_MCP_REDIS_ANSWER);

    ngx_rbtree_insert(&rd->pending, &msg->node);

    *msgp = msg;

    return NGX_AGAIN;
}


void
ngx_http_mcp_redis_msg_cancel(ngx_http_mcp_redis_msg_t *msg)
{
    /* whoever waited is gone; the answer still ends the message */

    msg->handler = NULL;
    msg->data = NULL;
}


static void
ngx_http_mcp_redis_published(void *data, void *r)
{
    ngx_http_mcp_redis_msg_t  *msg = data;

    redisReply  *reply = r;

    msg->publish = NULL;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        /* Redis failed: whether it went anywhere is unknown */
        ngx_http_mcp_redis_msg_done(msg, NGX_ABORT);
        return;
    }

    if (reply->integer == 0) {
        /* nobody listens on that channel: its worker is gone */
        ngx_http_mcp_redis_msg_done(msg, NGX_HTTP_MCP_NOBODY);
        return;
    }

    msg->published = 1;
}


static void
ngx_http_mcp_redis_msg_timeout(ngx_event_t *ev)
{
    ngx_log_error(NGX_LOG_ERR, ev->log, NGX_ETIMEDOUT,
                  "mcp: no answer from the host holding a stream");

    ngx_http_mcp_redis_msg_done(ev->data, NGX_ABORT);
}


static void
ngx_http_mcp_redis_msg_done(ngx_http_mcp_redis_msg_t *msg, ngx_int_t rc)
{
    void                         *data;
    ngx_http_mcp_ipc_handler_pt   handler;

    handler = msg->handler;
    data = msg->data;

    ngx_rbtree_delete(&ngx_http_mcp_redis.pending, &msg->node);

    if (msg->timer.timer_set) {
        ngx_del_timer(&msg->timer);
    }

    /* an answer can come before the PUBLISH's own reply */

    if (msg->publish) {
        ngx_http_mcp_redis_cancel(msg->publish);
    }

    ngx_free(msg);

    if (handler) {
        handler(data, rc);
    }
}


static void
ngx_http_mcp_redis_message(u_char *data, size_t len)
{
    u_char             *p, *last, *seq, *channel, *id;
    size_t              seqlen, chlen;
    ngx_int_t           rc, n;
    ngx_str_t           sid;
    ngx_rbtree_node_t  *node, *sentinel;

    p = data;
    last = data + len;

    if (len < 4 || p[1] != ' ') {
        goto invalid;
    }

    /* the number */

    seq = p + 2;

    for (p = seq; p < last && *p != ' '; p++) { /* void */ }

    seqlen = p - seq;
    n = ngx_atoi(seq, seqlen);

    if (n == NGX_ERROR || p == last) {
        goto invalid;
    }

    p++;

    if (data[0] == 'A') {

        /* an answer to a message of ours */

        node = ngx_http_mcp_redis.pending.root;
        sentinel = ngx_http_mcp_redis.pending.sentinel;

        while (node != sentinel && node->key != (ngx_rbtree_key_t) n) {
            node = ((ngx_rbtree_key_t) n < node->key) ? node->left
                                                       : node->right;
        }

        if (node != sentinel) {
            ngx_http_mcp_redis_msg_done((ngx_http_mcp_redis_msg_t *) node,
                                        (*p == '1') ? NGX_OK : NGX_DECLINED);
        }

        return;
    }

    /* "D" or "C": the answer channel, the session, the payload */

    channel = p;

    for ( /* void */ ; p < last && *p != ' '; p++) { /* void */ }

    chlen = p - channel;

    if (p == last || last - p < 1 + NGX_HTTP_MCP_SESSION_ID_LEN) {
        goto invalid;
    }

    id = p + 1;
    p = id + NGX_HTTP_MCP_SESSION_ID_LEN;

    if (p < last && *p != ' ') {
        goto invalid;
    }

    sid.data = id;
    sid.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    if (data[0] == 'D') {
        if (p == last) {
            goto invalid;
        }

        p++;
        rc = ngx_http_mcp_sse_deliver(&sid, p, last - p);

    } else if (data[0] == 'C') {
        rc = ngx_http_mcp_sse_close_session(&sid);

    } else {
        goto invalid;
    }

    ngx_http_mcp_redis_answer(channel, chlen, seq, seqlen, rc);

    return;

invalid:

    ngx_log_error(NGX_LOG_ERR, ngx_http_mcp_redis.log, 0,
                  "mcp: redis: a malformed message was ignored");
}


static void
ngx_http_mcp_redis_answer(u_char *channel, size_t len, u_char *seq,
    size_t seqlen, ngx_int_t rc)
{
    u_char      *p;
    size_t       argl[3];
    const char  *argv[3];
    u_char       answer[NGX_INT64_LEN + 8];

    if (seqlen > NGX_INT64_LEN) {
        return;
    }

    p = ngx_sprintf(answer, "A %*s %c", seqlen, seq, rc == NGX_OK ? '1' : '0');

    argv[0] = "PUBLISH";
    argl[0] = 7;
    argv[1] = (char *) channel;
    argl[1] = len;
    argv[2] = (char *) answer;
    argl[2] = p - answer;

    (void) ngx_http_mcp_redis_command(NULL, NULL, 3, argv, argl, NULL);
}


/*
 * The owner of a session's stream: <prefix>o:<id> holds "<node>:<pid>",
 * set when the stream opens (claimed, for a Streamable HTTP session, so
 * that no two hosts hold one), renewed by the stream's keepalive, and
 * removed when it closes, if still ours.
 */

ngx_int_t
ngx_http_mcp_redis_owner_set(ngx_str_t *id, ngx_pid_t pid, ngx_msec_t ttl,
    ngx_http_mcp_redis_handler_pt handler, void *data,
    ngx_http_mcp_redis_cmd_t **cmdp)
{
    u_char      *p;
    size_t       argl[5];
    ngx_int_t    rc;
    const char  *argv[5];
    u_char       key[NGX_HTTP_MCP_REDIS_KEY_LEN];
    u_char       value[NGX_HTTP_MCP_REDIS_KEY_LEN];
    u_char       px[NGX_INT_T_LEN];

    rc = ngx_http_mcp_redis_key('o', id, key, &argl[1]);
    if (rc != NGX_OK) {
        return rc;
    }

    argv[0] = "SET";
    argl[0] = 3;
    argv[1] = (char *) key;

    p = ngx_snprintf(value, sizeof(value), "%V:%P",
                     &ngx_http_mcp_redis.node, pid ? pid : ngx_pid);
    argv[2] = (char *) value;
    argl[2] = p - value;

    argv[3] = "PX";
    argl[3] = 2;

    p = ngx_sprintf(px, "%M", ttl);
    argv[4] = (char *) px;
    argl[4] = p - px;

    return ngx_http_mcp_redis_command(handler, data, 5, argv, argl, cmdp);
}


ngx_int_t
ngx_http_mcp_redis_owner_claim(ngx_str_t *id, ngx_msec_t ttl,
    ngx_http_mcp_redis_handler_pt handler, void *data,
    ngx_http_mcp_redis_cmd_t **cmdp)
{
    u_char      *p;
    size_t       argl[7];
    ngx_int_t    rc;
    const char  *argv[7];
    u_char       key[NGX_HTTP_MCP_REDIS_KEY_LEN];
    u_char       value[NGX_HTTP_MCP_REDIS_KEY_LEN];
    u_char       node[NGX_HTTP_MCP_REDIS_KEY_LEN];
    u_char       px[NGX_INT_T_LEN];

    /*
     * 1: the stream is ours now; 0: another host holds it.  A record
     * left by this host (a stream whose end Redis missed) is taken over:
     * the session zone already decided between this host's workers.
     */

    static char  script[] =
        "local v = redis.call('GET', KEYS[1]) "
        "if v == false or string.sub(v, 1, string.len(ARGV[2])) == ARGV[2] "
        "then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) return 1 "
        "end "
        "return 0";

    rc = ngx_http_mcp_redis_key('o', id, key, &argl[3]);
    if (rc != NGX_OK) {
        return rc;
    }

    argv[0] = "EVAL";
    argl[0] = 4;
    argv[1] = script;
    argl[1] = sizeof(script) - 1;
    argv[2] = "1";
    argl[2] = 1;
    argv[3] = (char *) key;

    p = ngx_snprintf(value, sizeof(value), "%V:%P",
                     &ngx_http_mcp_redis.node, ngx_pid);
    argv[4] = (char *) value;
    argl[4] = p - value;

    p = ngx_snprintf(node, sizeof(node), "%V:", &ngx_http_mcp_redis.node);
    argv[5] = (char *) node;
    argl[5] = p - node;

    p = ngx_sprintf(px, "%M", ttl);
    argv[6] = (char *) px;
    argl[6] = p - px;

    return ngx_http_mcp_redis_command(handler, data, 7, argv, argl, cmdp);
}


ngx_int_t
ngx_http_mcp_redis_owner_get(ngx_str_t *id,
    ngx_http_mcp_redis_handler_pt handler, void *data,
    ngx_http_mcp_redis_cmd_t **cmdp)
{
    size_t       argl[2];
    ngx_int_t    rc;
    const char  *argv[2];
    u_char       key[NGX_HTTP_MCP_REDIS_KEY_LEN];

    rc = ngx_http_mcp_redis_key('o', id, key, &argl[1]);
    if (rc != NGX_OK) {
        return rc;
    }

    argv[0] = "GET";
    argl[0] = 3;
    argv[1] = (char *) key;

    return ngx_http_mcp_redis_command(handler, data, 2, argv, argl, cmdp);
}


void
ngx_http_mcp_redis_owner_release(ngx_str_t *id, ngx_uint_t legacy)
{
    u_char     *p;
    ngx_str_t   owner;
    u_char      value[NGX_HTTP_MCP_REDIS_KEY_LEN];

    /* only a record still naming this worker goes (and a legacy session) */

    if (ngx_http_mcp_redis.conf == NULL) {
        return;
    }

    p = ngx_snprintf(value, sizeof(value), "%V:%P",
                     &ngx_http_mcp_redis.node, ngx_pid);

    owner.data = value;
    owner.len = p - value;

    ngx_http_mcp_redis_owner_forget(id, &owner, legacy);
}


ngx_int_t
ngx_http_mcp_redis_owner(void *r, ngx_str_t *owner, ngx_pid_t *pid)
{
    redisReply  *reply = r;

    /*
     * NGX_OK: owner is "<node>:<pid>" (in the reply: copy it), with *pid
     * set when the node is this one; NGX_DECLINED: no stream anywhere;
     * NGX_ERROR: no answer.
     */

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        return NGX_ERROR;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        return NGX_DECLINED;
    }

    if (reply->type != REDIS_REPLY_STRING || reply->len == 0) {
        return NGX_ERROR;
    }

    owner->data = (u_char *) reply->str;
    owner->len = reply->len;

    if (ngx_strlchr(owner->data, owner->data + owner->len, ':') == NULL) {
        return NGX_ERROR;
    }

    *pid = ngx_http_mcp_redis_owner_pid(owner);

    return NGX_OK;
}


ngx_pid_t
ngx_http_mcp_redis_owner_pid(ngx_str_t *owner)
{
    u_char     *colon;
    ngx_int_t   n;
    ngx_str_t  *node;

    /* the worker's pid when the owner is on this host, 0 otherwise */

    colon = ngx_strlchr(owner->data, owner->data + owner->len, ':');
    node = &ngx_http_mcp_redis.node;

    if (colon == NULL
        || (size_t) (colon - owner->data) != node->len
        || ngx_strncmp(owner->data, node->data, node->len) != 0)
    {
        return 0;
    }

    n = ngx_atoi(colon + 1, owner->data + owner->len - colon - 1);

    return (n == NGX_ERROR) ? 0 : (ngx_pid_t) n;
}


void
ngx_http_mcp_redis_owner_forget(ngx_str_t *id, ngx_str_t *owner,
    ngx_uint_t legacy)
{
    size_t       argl[7];
    const char  *argv[7];
    u_char       key[NGX_HTTP_MCP_REDIS_KEY_LEN];
    u_char       session[NGX_HTTP_MCP_REDIS_KEY_LEN];

    static char  script[] =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then "
            "redis.call('DEL', KEYS[1]) "
            "if ARGV[2] == '1' then redis.call('DEL', KEYS[2]) end "
        "end "
        "return 0";

    /*
     * The owner is gone: its record goes, unless another worker holds
     * the stream by now, and with it a legacy session, which was the
     * stream.
     */

    if (ngx_http_mcp_redis_key('o', id, key, &argl[3]) != NGX_OK
        || ngx_http_mcp_redis_key('s', id, session, &argl[4]) != NGX_OK)
    {
        return;
    }

    argv[0] = "EVAL";
    argl[0] = 4;
    argv[1] = script;
    argl[1] = sizeof(script) - 1;
    argv[2] = "2";
    argl[2] = 1;
    argv[3] = (char *) key;
    argv[4] = (char *) session;
    argv[5] = (char *) owner->data;
    argl[5] = owner->len;
    argv[6] = legacy ? "1" : "0";
    argl[6] = 1;

    (void) ngx_http_mcp_redis_command(NULL, NULL, 7, argv, argl, NULL);
}


void
ngx_http_mcp_redis_stream_alive(ngx_str_t *id, ngx_msec_t ttl)
{
    u_char      *p, *copy;
    size_t       argl[8];
    const char  *argv[8];
    u_char       okey[NGX_HTTP_MCP_REDIS_KEY_LEN];
    u_char       skey[NGX_HTTP_MCP_REDIS_KEY_LEN];
    u_char       value[NGX_HTTP_MCP_REDIS_KEY_LEN];
    u_char       px[NGX_INT_T_LEN];
    u_char       idle[NGX_INT_T_LEN];

    /*
     * A stream's keepalive renews its session and its ownership, unless
     * another host holds the session's stream by now (two streams after
     * an outage): then this one ends, and the client comes back to one.
     */

    static char  script[] =
        "redis.call('PEXPIRE', KEYS[2], ARGV[3]) "
        "local v = redis.call('GET', KEYS[1]) "
        "if v == false or v == ARGV[1] then "
            "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 "
        "end "
        "return 0";

    if (ngx_http_mcp_redis_key('o', id, okey, &argl[3]) != NGX_OK
        || ngx_http_mcp_redis_key('s', id, skey, &argl[4]) != NGX_OK
        || id->len != NGX_HTTP_MCP_SESSION_ID_LEN)
    {
        return;
    }

    argv[0] = "EVAL";
    argl[0] = 4;
    argv[1] = script;
    argl[1] = sizeof(script) - 1;
    argv[2] = "2";
    argl[2] = 1;
    argv[3] = (char *) okey;
    argv[4] = (char *) skey;

    p = ngx_snprintf(value, sizeof(value), "%V:%P",
                     &ngx_http_mcp_redis.node, ngx_pid);
    argv[5] = (char *) value;
    argl[5] = p - value;

    p = ngx_sprintf(px, "%M", ttl);
    argv[6] = (char *) px;
    argl[6] = p - px;

    p = ngx_sprintf(idle, "%M",
                    ngx_http_mcp_session_idle_timeout(ngx_http_mcp_redis.zone));
    argv[7] = (char *) idle;
    argl[7] = p - idle;

    copy = ngx_alloc(NGX_HTTP_MCP_SESSION_ID_LEN, ngx_http_mcp_redis.log);
    if (copy == NULL) {
        return;
    }

    ngx_memcpy(copy, id->data, NGX_HTTP_MCP_SESSION_ID_LEN);

    if (ngx_http_mcp_redis_command(ngx_http_mcp_redis_still_ours, copy, 8,
                                   argv, argl, NULL)
        != NGX_OK)
    {
        ngx_free(copy);
    }
}


static void
ngx_http_mcp_redis_still_ours(void *data, void *r)
{
    u_char      *copy = data;
    redisReply  *reply = r;

    ngx_str_t  id;

    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
        id.data = copy;
        id.len = NGX_HTTP_MCP_SESSION_ID_LEN;

        ngx_log_error(NGX_LOG_WARN, ngx_http_mcp_redis.log, 0,
                      "mcp: session %V has a stream on another host; "
                      "closing this one", &id);

        (void) ngx_http_mcp_sse_close_session(&id);
    }

    ngx_free(copy);
}


void
ngx_http_mcp_redis_close_remote(ngx_str_t *id)
{
    u_char  *copy;

    /* a session ended here whose stream may be on another host */

    if (ngx_http_mcp_redis.conf == NULL || !ngx_http_mcp_redis.up) {
        return;
    }

    copy = ngx_alloc(NGX_HTTP_MCP_SESSION_ID_LEN, ngx_http_mcp_redis.log);
    if (copy == NULL) {
        return;
    }

    ngx_memcpy(copy, id->data, NGX_HTTP_MCP_SESSION_ID_LEN);

    if (id->len != NGX_HTTP_MCP_SESSION_ID_LEN
        || ngx_http_mcp_redis_owner_get(id, ngx_http_mcp_redis_close_owner,
                                        copy, NULL)
           != NGX_OK)
    {
        ngx_free(copy);
    }
}


static void
ngx_http_mcp_redis_close_owner(void *data, void *reply)
{
    u_char  *copy = data;

    ngx_pid_t                  pid;
    ngx_str_t                  owner, id;
    ngx_http_mcp_redis_msg_t  *msg;

    id.data = copy;
    id.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    if (ngx_http_mcp_redis_owner(reply, &owner, &pid) == NGX_OK && pid == 0) {
        (void) ngx_http_mcp_redis_send(&owner, NGX_HTTP_MCP_IPC_CLOSE_STREAM,
                                       &id, NULL, 0, NULL, NULL, &msg);
    }

    ngx_free(copy);
}
