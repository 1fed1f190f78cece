
/*
 * Copyright (C) ngx_mcp_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_mcp_module.h"


/*
 * Same-host messages between workers.  Each worker listens on a Unix
 * stream socket named after the instance and its pid in Linux's abstract
 * namespace: nothing to set up before fork, nothing left on disk, and a
 * name dies with its process, so a reload cannot deliver into the wrong
 * generation.  The instance part (random, kept in the session zone) keeps
 * two nginx instances sharing a network namespace apart.
 *
 * Abstract names have no permissions: anyone may bind one first.  So both
 * ends check the other through the kernel (SO_PEERCRED): the receiver
 * takes connections from the workers' own user only, the sender talks
 * only to a listener that is the very pid it wanted, of that user.
 *
 * One connection carries one message: a header (type, payload length,
 * session id), the payload, then the receiver's answer, one status word.
 * The sender learns whether the message reached the stream, which is
 * what a POST of HTTP with SSE answers with (202 or not).  Messages are
 * as rare as client POSTs and a local connect costs microseconds, so
 * there are no long-lived connections between workers to keep.
 *
 * The listening socket is also the worker's shutdown watch: it is marked
 * idle, so a graceful shutdown runs its read handler with c->close set,
 * and that ends every stream of the worker before the socket is closed.
 */


#define NGX_HTTP_MCP_IPC_NAME      "ngx_http_mcp:%V:%P"

/* a worker answers at once; one that does not within this is wedged */
#define NGX_HTTP_MCP_IPC_TIMEOUT   5000

/* far above what a batch of answers can be */
#define NGX_HTTP_MCP_IPC_MAX_SIZE  (64 * 1024 * 1024)

#define NGX_HTTP_MCP_IPC_OK        0
#define NGX_HTTP_MCP_IPC_GONE      1


typedef struct {
    uint32_t                  type;
    uint32_t                  len;
    u_char                    id[NGX_HTTP_MCP_SESSION_ID_LEN];
} ngx_http_mcp_ipc_head_t;


struct ngx_http_mcp_ipc_s {
    ngx_connection_t             *connection;
    ngx_http_mcp_ipc_handler_pt   handler;
    void                         *data;

    /* what is being sent, header and payload */
    u_char                       *out;
    size_t                        size;
    size_t                        sent;

    /* what is being received */
    ngx_http_mcp_ipc_head_t       head;
    u_char                       *payload;
    size_t                        got;
    uint32_t                      status;
};


#if (NGX_LINUX)
static socklen_t ngx_http_mcp_ipc_addr(struct sockaddr_un *sun,
    ngx_pid_t pid);
static ngx_int_t ngx_http_mcp_ipc_peer(ngx_socket_t s, ngx_pid_t pid);
static ngx_socket_t ngx_http_mcp_ipc_listen(ngx_cycle_t *cycle);
static void ngx_http_mcp_ipc_accept(ngx_event_t *ev);
static void ngx_http_mcp_ipc_receive(ngx_event_t *ev);
static ngx_int_t ngx_http_mcp_ipc_process(ngx_http_mcp_ipc_t *ipc);
static void ngx_http_mcp_ipc_write(ngx_event_t *ev);
static ngx_int_t ngx_http_mcp_ipc_flush(ngx_http_mcp_ipc_t *ipc);
static void ngx_http_mcp_ipc_reply(ngx_event_t *ev);
static void ngx_http_mcp_ipc_finish(ngx_http_mcp_ipc_t *ipc, ngx_int_t rc);
#endif
static void ngx_http_mcp_ipc_watch(ngx_event_t *ev);
static void ngx_http_mcp_ipc_close(ngx_connection_t *c);


/* per worker process: its listening socket, and the instance's name */
static ngx_connection_t  *ngx_http_mcp_ipc_listener;
static ngx_str_t          ngx_http_mcp_ipc_instance;


ngx_int_t
ngx_http_mcp_ipc_init_process(ngx_cycle_t *cycle, ngx_str_t *instance)
{
    ngx_fd_t           fds[2];
    ngx_socket_t       s;
    ngx_connection_t  *c;

    ngx_http_mcp_ipc_instance = *instance;

#if (NGX_LINUX)
    s = ngx_http_mcp_ipc_listen(cycle);
#else
    s = (ngx_socket_t) -1;
#endif

    if (s == (ngx_socket_t) -1) {

        /*
         * Without a worker socket the shutdown watch still has to exist:
         * a pipe nobody writes to, never polled.
         */

        if (pipe(fds) == -1) {
            ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                          "pipe() failed");
            return NGX_ERROR;
        }

        (void) close(fds[1]);

        c = ngx_get_connection(fds[0], cycle->log);
        if (c == NULL) {
            (void) close(fds[0]);
            return NGX_ERROR;
        }

        c->read->handler = ngx_http_mcp_ipc_watch;
        c->read->log = cycle->log;
        c->write->log = cycle->log;
        c->idle = 1;

        return NGX_OK;
    }

#if (NGX_LINUX)

    c = ngx_get_connection(s, cycle->log);
    if (c == NULL) {
        ngx_close_socket(s);
        return NGX_ERROR;
    }

    c->read->handler = ngx_http_mcp_ipc_accept;
    c->read->log = cycle->log;
    c->write->log = cycle->log;
    c->idle = 1;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_close_connection(c);
        return NGX_ERROR;
    }

    ngx_http_mcp_ipc_listener = c;

#endif

    return NGX_OK;
}


static void
ngx_http_mcp_ipc_watch(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

    if (c->close) {
        ngx_http_mcp_ipc_close(c);
    }
}


static void
ngx_http_mcp_ipc_close(ngx_connection_t *c)
{
    /* the worker is shutting down */

    ngx_http_mcp_sse_close_all();

    if (c == ngx_http_mcp_ipc_listener) {
        ngx_http_mcp_ipc_listener = NULL;
    }

    ngx_close_connection(c);
}


#if (NGX_LINUX)

static socklen_t
ngx_http_mcp_ipc_addr(struct sockaddr_un *sun, ngx_pid_t pid)
{
    u_char  *p;

    ngx_memzero(sun, sizeof(struct sockaddr_un));
    sun->sun_family = AF_UNIX;

    /* sun_path[0] == '\0': the abstract namespace */

    p = ngx_snprintf((u_char *) sun->sun_path + 1,
                     sizeof(sun->sun_path) - 1, NGX_HTTP_MCP_IPC_NAME,
                     &ngx_http_mcp_ipc_instance, pid);

    return (socklen_t) (p - (u_char *) sun);
}


static ngx_int_t
ngx_http_mcp_ipc_peer(ngx_socket_t s, ngx_pid_t pid)
{
    socklen_t     len;
    struct ucred  cred;

    /* the listener is the worker asked for, not whoever took its name */

    len = sizeof(struct ucred);

    if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, ngx_socket_errno,
                      "mcp: getsockopt(SO_PEERCRED) failed");
        return NGX_ERROR;
    }

    if (cred.pid != pid || cred.uid != geteuid()) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "mcp: the socket of worker %P is held by pid %P, "
                      "uid %d; no message sent", pid, (ngx_pid_t) cred.pid,
                      (int) cred.uid);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_socket_t
ngx_http_mcp_ipc_listen(ngx_cycle_t *cycle)
{
    socklen_t           len;
    ngx_socket_t        s;
    struct sockaddr_un  sun;

    s = ngx_socket(AF_UNIX, SOCK_STREAM, 0);

    if (s == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, ngx_socket_errno,
                      "mcp: socket() failed");
        return (ngx_socket_t) -1;
    }

    len = ngx_http_mcp_ipc_addr(&sun, ngx_pid);

    if (bind(s, (struct sockaddr *) &sun, len) == -1
        || listen(s, NGX_LISTEN_BACKLOG) == -1
        || ngx_nonblocking(s) == -1)
    {
        ngx_log_error(NGX_LOG_ERR, cycle->log, ngx_socket_errno,
                      "mcp: the worker socket could not be set up; "
                      "messages for streams of this worker fail, and "
                      "its streams end at their keepalive when their "
                      "session is deleted elsewhere");
        ngx_close_socket(s);
        return (ngx_socket_t) -1;
    }

    return s;
}


static void
ngx_http_mcp_ipc_accept(ngx_event_t *ev)
{
    socklen_t            len;
    ngx_err_t            err;
    ngx_pool_t          *pool;
    ngx_socket_t         s;
    struct ucred         cred;
    ngx_connection_t    *lc, *c;
    ngx_http_mcp_ipc_t  *ipc;

    lc = ev->data;

    if (lc->close) {
        ngx_http_mcp_ipc_close(lc);
        return;
    }

    /* after running out of descriptors, a pause: see below */
    ev->timedout = 0;

    /* edge-triggered: accept until nothing is left */

    for ( ;; ) {
        s = accept4(lc->fd, NULL, NULL, SOCK_NONBLOCK);

        if (s == (ngx_socket_t) -1) {
            err = ngx_socket_errno;

            if (err == NGX_EINTR || err == NGX_ECONNABORTED) {
                continue;
            }

            if (err == NGX_EAGAIN) {
                ev->ready = 0;
                break;
            }

            ngx_log_error(NGX_LOG_ALERT, lc->log, err,
                          "mcp: accept() on the worker socket failed");

            if (err == NGX_EMFILE || err == NGX_ENFILE) {
                /* as nginx's own accept does: try again a little later */
                ngx_add_timer(ev, 100);
                return;
            }

            break;
        }

        /* the kernel tells who connected: only our own user counts */

        len = sizeof(struct ucred);
        cred.uid = (uid_t) -1;

        if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1
            || cred.uid != geteuid())
        {
            ngx_log_error(NGX_LOG_WARN, lc->log, 0,
                          "mcp: a message from uid %d was ignored",
                          (int) cred.uid);
            ngx_close_socket(s);
            continue;
        }

        pool = ngx_create_pool(1024, lc->log);
        if (pool == NULL) {
            ngx_close_socket(s);
            continue;
        }

        ipc = ngx_pcalloc(pool, sizeof(ngx_http_mcp_ipc_t));
        c = ipc ? ngx_get_connection(s, lc->log) : NULL;

        if (c == NULL) {
            ngx_close_socket(s);
            ngx_destroy_pool(pool);
            continue;
        }

        c->pool = pool;
        c->data = ipc;
        c->read->handler = ngx_http_mcp_ipc_receive;
        c->read->log = lc->log;
        c->write->log = lc->log;
        ipc->connection = c;

        ngx_add_timer(c->read, NGX_HTTP_MCP_IPC_TIMEOUT);

        ngx_http_mcp_ipc_receive(c->read);
    }

    if (ngx_handle_read_event(ev, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, lc->log, 0,
                      "mcp: the worker socket cannot be polled");
    }
}


static void
ngx_http_mcp_ipc_receive(ngx_event_t *ev)
{
    u_char              *p;
    size_t               want;
    ssize_t              n;
    ngx_connection_t    *c;
    ngx_http_mcp_ipc_t  *ipc;

    c = ev->data;
    ipc = c->data;

    if (ev->timedout || c->close) {
        ngx_log_error(NGX_LOG_WARN, c->log, NGX_ETIMEDOUT,
                      "mcp: a message from another worker timed out");
        goto close;
    }

    for ( ;; ) {
        if (ipc->got < sizeof(ngx_http_mcp_ipc_head_t)) {
            p = (u_char *) &ipc->head + ipc->got;
            want = sizeof(ngx_http_mcp_ipc_head_t) - ipc->got;

        } else {
            want = sizeof(ngx_http_mcp_ipc_head_t) + ipc->head.len
                   - ipc->got;

            if (want == 0) {
                break;
            }

            p = ipc->payload + ipc->got - sizeof(ngx_http_mcp_ipc_head_t);
        }

        n = recv(c->fd, p, want, 0);

        if (n == -1) {
            if (ngx_socket_errno == NGX_EINTR) {
                continue;
            }

            if (ngx_socket_errno == NGX_EAGAIN) {
                ev->ready = 0;

                if (ngx_handle_read_event(ev, 0) != NGX_OK) {
                    goto close;
                }

                return;
            }

            ngx_log_error(NGX_LOG_ERR, c->log, ngx_socket_errno,
                          "mcp: recv() of a message failed");
            goto close;
        }

        if (n == 0) {
            /* the sender gave up */
            goto close;
        }

        ipc->got += n;

        if (ipc->got == sizeof(ngx_http_mcp_ipc_head_t)) {
            if (ipc->head.len > NGX_HTTP_MCP_IPC_MAX_SIZE) {
                ngx_log_error(NGX_LOG_ERR, c->log, 0,
                              "mcp: a message of %uD bytes was refused",
                              ipc->head.len);
                goto close;
            }

            if (ipc->head.len) {
                ipc->payload = ngx_pnalloc(c->pool, ipc->head.len);
                if (ipc->payload == NULL) {
                    goto close;
                }
            }
        }
    }

    ipc->status = (ngx_http_mcp_ipc_process(ipc) == NGX_OK)
                  ? NGX_HTTP_MCP_IPC_OK : NGX_HTTP_MCP_IPC_GONE;

    /* a word into an empty socket buffer: it fits */

    if (send(c->fd, &ipc->status, sizeof(uint32_t), 0)
        != (ssize_t) sizeof(uint32_t))
    {
        ngx_log_error(NGX_LOG_INFO, c->log, ngx_socket_errno,
                      "mcp: the answer to another worker was lost");
    }

close:

    ngx_http_mcp_ipc_finish(ipc, NGX_DONE);
}


static ngx_int_t
ngx_http_mcp_ipc_process(ngx_http_mcp_ipc_t *ipc)
{
    ngx_str_t  id;

    id.data = ipc->head.id;
    id.len = NGX_HTTP_MCP_SESSION_ID_LEN;

    switch (ipc->head.type) {

    case NGX_HTTP_MCP_IPC_DELIVER:
        return ngx_http_mcp_sse_deliver(&id, ipc->payload, ipc->head.len);

    case NGX_HTTP_MCP_IPC_CLOSE_STREAM:
        return ngx_http_mcp_sse_close_session(&id);

    default:
        ngx_log_error(NGX_LOG_ERR, ipc->connection->log, 0,
                      "mcp: a message of unknown type %uD was ignored",
                      ipc->head.type);
        return NGX_DECLINED;
    }
}

#endif


ngx_int_t
ngx_http_mcp_ipc_send(ngx_pid_t pid, ngx_uint_t type, ngx_str_t *id,
    u_char *payload, size_t len, ngx_http_mcp_ipc_handler_pt handler,
    void *data, ngx_http_mcp_ipc_t **ipcp)
{
#if (NGX_LINUX)
    u_char                   *p;
    ngx_int_t                 rc;
    ngx_err_t                 err;
    socklen_t                 slen;
    ngx_pool_t               *pool;
    ngx_socket_t              s;
    ngx_connection_t         *c;
    struct sockaddr_un        sun;
    ngx_http_mcp_ipc_t       *ipc;
    ngx_http_mcp_ipc_head_t   head;

    *ipcp = NULL;

    if (id->len != NGX_HTTP_MCP_SESSION_ID_LEN
        || len > NGX_HTTP_MCP_IPC_MAX_SIZE)
    {
        return NGX_ERROR;
    }

    s = ngx_socket(AF_UNIX, SOCK_STREAM, 0);

    if (s == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, ngx_socket_errno,
                      "mcp: socket() failed");
        return NGX_ERROR;
    }

    if (ngx_nonblocking(s) == -1) {
        ngx_close_socket(s);
        return NGX_ERROR;
    }

    slen = ngx_http_mcp_ipc_addr(&sun, pid);

    if (connect(s, (struct sockaddr *) &sun, slen) == -1) {
        err = ngx_socket_errno;
        ngx_close_socket(s);

        /* a full backlog is not waited on: Unix sockets say so at once */

        if (err == NGX_EAGAIN) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, err,
                          "mcp: worker %P is too busy to take a message",
                          pid);
            return NGX_BUSY;
        }

        if (kill(pid, 0) == -1 && ngx_errno == NGX_ESRCH) {
            ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, err,
                          "mcp: worker %P is gone", pid);
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, err,
                      "mcp: worker %P cannot be reached", pid);
        return NGX_BUSY;
    }

    if (ngx_http_mcp_ipc_peer(s, pid) != NGX_OK) {
        ngx_close_socket(s);
        return (kill(pid, 0) == -1 && ngx_errno == NGX_ESRCH)
               ? NGX_DECLINED : NGX_BUSY;
    }

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        ngx_close_socket(s);
        return NGX_ERROR;
    }

    ipc = ngx_pcalloc(pool, sizeof(ngx_http_mcp_ipc_t));
    if (ipc == NULL) {
        goto failed;
    }

    ipc->size = sizeof(ngx_http_mcp_ipc_head_t) + len;

    ipc->out = ngx_pnalloc(pool, ipc->size);
    if (ipc->out == NULL) {
        goto failed;
    }

    ngx_memzero(&head, sizeof(ngx_http_mcp_ipc_head_t));
    head.type = (uint32_t) type;
    head.len = (uint32_t) len;
    ngx_memcpy(head.id, id->data, NGX_HTTP_MCP_SESSION_ID_LEN);

    p = ngx_cpymem(ipc->out, &head, sizeof(ngx_http_mcp_ipc_head_t));
    ngx_memcpy(p, payload, len);

    c = ngx_get_connection(s, ngx_cycle->log);
    if (c == NULL) {
        goto failed;
    }

    c->pool = pool;
    c->data = ipc;
    c->read->handler = ngx_http_mcp_ipc_reply;
    c->write->handler = ngx_http_mcp_ipc_write;
    c->read->log = c->log;
    c->write->log = c->log;

    ipc->connection = c;

    rc = ngx_http_mcp_ipc_flush(ipc);

    if (rc == NGX_ERROR
        || ngx_handle_read_event(c->read, 0) != NGX_OK
        || (rc == NGX_AGAIN && ngx_handle_write_event(c->write, 0) != NGX_OK))
    {
        ngx_close_connection(c);
        ngx_destroy_pool(pool);
        return NGX_DECLINED;
    }

    ngx_add_timer(c->read, NGX_HTTP_MCP_IPC_TIMEOUT);

    ipc->handler = handler;
    ipc->data = data;
    *ipcp = ipc;

    return NGX_AGAIN;

failed:

    ngx_close_socket(s);
    ngx_destroy_pool(pool);

    return NGX_ERROR;

#else

    *ipcp = NULL;

    return NGX_DECLINED;

#endif
}


void
ngx_http_mcp_ipc_detach(ngx_http_mcp_ipc_t *ipc)
{
    /* whoever waited is gone; the message still completes */

    ipc->handler = NULL;
    ipc->data = NULL;
}


#if (NGX_LINUX)

static void
ngx_http_mcp_ipc_write(ngx_event_t *ev)
{
    ngx_connection_t    *c;
    ngx_http_mcp_ipc_t  *ipc;

    c = ev->data;
    ipc = c->data;

    switch (ngx_http_mcp_ipc_flush(ipc)) {

    case NGX_ERROR:
        ngx_http_mcp_ipc_finish(ipc, NGX_DECLINED);
        return;

    case NGX_AGAIN:
        if (ngx_handle_write_event(ev, 0) != NGX_OK) {
            ngx_http_mcp_ipc_finish(ipc, NGX_DECLINED);
        }

        return;

    default:
        /* all sent: the answer comes on the read side */

        if (c->write->active && (ngx_event_flags & NGX_USE_LEVEL_EVENT)) {
            (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
        }

        return;
    }
}


static ngx_int_t
ngx_http_mcp_ipc_flush(ngx_http_mcp_ipc_t *ipc)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = ipc->connection;

    while (ipc->sent < ipc->size) {
        n = send(c->fd, ipc->out + ipc->sent, ipc->size - ipc->sent, 0);

        if (n == -1) {
            if (ngx_socket_errno == NGX_EINTR) {
                continue;
            }

            if (ngx_socket_errno == NGX_EAGAIN) {
                c->write->ready = 0;
                return NGX_AGAIN;
            }

            ngx_log_error(NGX_LOG_INFO, c->log, ngx_socket_errno,
                          "mcp: send() of a message failed");
            return NGX_ERROR;
        }

        ipc->sent += n;
    }

    return NGX_OK;
}


static void
ngx_http_mcp_ipc_reply(ngx_event_t *ev)
{
    ssize_t              n;
    ngx_connection_t    *c;
    ngx_http_mcp_ipc_t  *ipc;

    c = ev->data;
    ipc = c->data;

    if (ev->timedout || c->close) {
        ngx_log_error(NGX_LOG_ERR, c->log, NGX_ETIMEDOUT,
                      "mcp: another worker did not answer a message");
        ngx_http_mcp_ipc_finish(ipc, NGX_ABORT);
        return;
    }

    while (ipc->got < sizeof(uint32_t)) {
        n = recv(c->fd, (u_char *) &ipc->status + ipc->got,
                 sizeof(uint32_t) - ipc->got, 0);

        if (n == -1) {
            if (ngx_socket_errno == NGX_EINTR) {
                continue;
            }

            if (ngx_socket_errno == NGX_EAGAIN) {
                ev->ready = 0;

                if (ngx_handle_read_event(ev, 0) != NGX_OK) {
                    ngx_http_mcp_ipc_finish(ipc, NGX_DECLINED);
                }

                return;
            }

            ngx_http_mcp_ipc_finish(ipc, NGX_DECLINED);
            return;
        }

        if (n == 0) {
            /* closed without an answer: the worker went away meanwhile */
            ngx_http_mcp_ipc_finish(ipc, NGX_DECLINED);
            return;
        }

        ipc->got += n;
    }

    ngx_http_mcp_ipc_finish(ipc, ipc->status == NGX_HTTP_MCP_IPC_OK
                                 ? NGX_OK : NGX_DECLINED);
}


static void
ngx_http_mcp_ipc_finish(ngx_http_mcp_ipc_t *ipc, ngx_int_t rc)
{
    void                         *data;
    ngx_pool_t                   *pool;
    ngx_connection_t             *c;
    ngx_http_mcp_ipc_handler_pt   handler;

    c = ipc->connection;
    pool = c->pool;
    handler = ipc->handler;
    data = ipc->data;

    ngx_close_connection(c);
    ngx_destroy_pool(pool);

    if (handler) {
        handler(data, rc);
    }
}

#endif
