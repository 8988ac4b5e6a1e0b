package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tollgate-ai/tollgate/pluginserver/konghost"
	"github.com/tollgate-ai/tollgate/spec/kongemu"
)

// hopHeaders are not forwarded in either direction.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// singleHeaders are replaced, not added to, when the upstream sends them
// after a plugin set them in access (nginx keeps one value of these).
var singleHeaders = map[string]bool{"Content-Type": true, "Content-Length": true, "Date": true, "Server": true, "Location": true, "Last-Modified": true, "Etag": true}

// proxy calls the service and sends its answer. With no response handler
// collected, the body streams through unbuffered (SSE keeps its timing);
// otherwise Kong buffers the whole response and runs the response phase.
func (c *call) proxy(ctx context.Context, rw http.ResponseWriter) {
	buffered := false
	for _, e := range c.entries {
		if e.plugin.HasPhase(konghost.PhaseResponse) {
			buffered = true
		}
	}
	if c.route.service == nil {
		c.fail(rw, http.StatusServiceUnavailable, "no Service found with those values")
		return
	}
	out, err := c.upstreamRequest(ctx)
	if err != nil {
		c.g.log.Error("build upstream request", "error", err.Error())
		c.fail(rw, http.StatusInternalServerError, "An unexpected error occurred")
		return
	}
	sent := time.Now()
	resp, err := c.g.tr.RoundTrip(out)
	if err != nil {
		c.g.log.Warn("upstream call failed", "service", c.route.pbService.Name, "error", err.Error())
		if isTimeout(err) {
			c.fail(rw, http.StatusGatewayTimeout, "The upstream server is timing out")
		} else {
			c.fail(rw, http.StatusBadGateway, "An invalid response was received from the upstream server")
		}
		return
	}
	defer resp.Body.Close()
	c.r.Latencies.Proxy = int(time.Since(sent).Milliseconds())
	c.r.Latencies.Kong = int(sent.Sub(c.start).Milliseconds())

	h := c.responseHeaders(resp.Header)
	if buffered {
		c.sendBuffered(ctx, rw, resp, h)
		return
	}
	dst := rw.Header()
	for k, v := range h {
		dst[k] = v
	}
	rw.WriteHeader(resp.StatusCode)
	n := streamBody(rw, resp.Body)
	c.r.Response.Status, c.r.Response.Source, c.r.Response.Size = resp.StatusCode, "service", n
	c.r.Response.Headers = h
	c.sent = true
}

// responseHeaders merges what plugins set in access with the upstream's
// headers and adds Kong's own.
func (c *call) responseHeaders(up http.Header) http.Header {
	h := http.Header{}
	for k, v := range c.r.Response.Headers {
		h[k] = append([]string(nil), v...)
	}
	for k, v := range up {
		if singleHeaders[k] {
			h[k] = append([]string(nil), v...)
			continue
		}
		h[k] = append(h[k], v...)
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
	h.Add("Via", "1.1 kong/"+KongVersion)
	h.Set("X-Kong-Upstream-Latency", strconv.Itoa(c.r.Latencies.Proxy))
	h.Set("X-Kong-Proxy-Latency", strconv.Itoa(c.r.Latencies.Kong))
	h.Set("X-Kong-Request-Id", c.r.RequestID)
	return h
}

// sendBuffered holds the whole response, runs the response handlers in
// priority order (an exit replaces status and body) and then sends it.
func (c *call) sendBuffered(ctx context.Context, rw http.ResponseWriter, resp *http.Response, h http.Header) {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.fail(rw, http.StatusBadGateway, "An invalid response was received from the upstream server")
		return
	}
	c.r.ServiceResponse = &konghost.ServiceResponse{Status: resp.StatusCode, Headers: resp.Header.Clone(), Body: body}
	c.r.Response.Status, c.r.Response.Headers, c.r.Response.Source = resp.StatusCode, h, "service"
	status := resp.StatusCode
	for _, e := range c.entries {
		if !e.plugin.HasPhase(konghost.PhaseResponse) {
			continue
		}
		out, err := c.g.event(ctx, c.w, c.gen, e, konghost.PhaseResponse, c.r)
		if err != nil {
			c.g.log.Error("pluginserver error", "plugin", e.name, "phase", "response", "error", err.Error())
			c.fail(rw, http.StatusInternalServerError, "An unexpected error occurred")
			return
		}
		if out == konghost.Exited {
			status, body = c.r.Exit.Status, c.r.Exit.Body
			for k, v := range c.r.Exit.Headers {
				h[k] = v
			}
			break
		}
	}
	h = c.r.Response.Headers
	if c.r.Response.Status != 0 && c.r.Exit == nil {
		status = c.r.Response.Status
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	dst := rw.Header()
	for k, v := range h {
		dst[k] = v
	}
	rw.WriteHeader(status)
	_, _ = rw.Write(body)
	c.r.Response.Status, c.r.Response.Size = status, len(body)
	c.sent = true
}

func (c *call) fail(rw http.ResponseWriter, status int, msg string) {
	c.writeKongResponse(rw, &kongemu.ErrorResponse{Status: status, Message: msg})
}

// upstreamRequest builds the request to the service from what the router
// chose and what plugins changed.
func (c *call) upstreamRequest(ctx context.Context) (*http.Request, error) {
	rm, up := c.route, c.r.Upstream
	scheme := rm.scheme
	if up.Scheme != "" {
		scheme = up.Scheme
	}
	host, port := rm.host, rm.port
	if up.TargetSet {
		host, port = up.Host, up.Port
	}
	p := rm.upstreamPath
	if up.Path != "" {
		p = up.Path
	}
	q := c.r.RawQuery
	if up.QuerySet {
		q = up.RawQuery
	}
	// The router's upstream path is already escaped, as Kong sends it.
	u, err := url.Parse(scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + p)
	if err != nil {
		return nil, fmt.Errorf("upstream url: %w", err)
	}
	u.RawQuery = q
	method := c.r.Method
	if up.Method != "" {
		method = up.Method
	}
	out, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(c.r.Body))
	if err != nil {
		return nil, fmt.Errorf("upstream url: %w", err)
	}
	for k, v := range c.r.Headers {
		out.Header[k] = append([]string(nil), v...)
	}
	for _, k := range hopHeaders {
		out.Header.Del(k)
	}
	// Host is the upstream's (with a non-default port), or the client's with preserve_host.
	out.Header.Del("Host")
	out.Host = host
	if (scheme == "http" && port != 80) || (scheme == "https" && port != 443) {
		out.Host = net.JoinHostPort(host, strconv.Itoa(port))
	}
	if rm.preserveHost {
		out.Host = c.r.Headers.Get("Host")
	}
	out.ContentLength = int64(len(c.r.Body))
	out.Header.Del("Content-Length")
	xff := c.r.ClientIP
	if prior := c.r.Headers.Get("X-Forwarded-For"); prior != "" {
		xff = prior + ", " + xff
	}
	out.Header.Set("X-Forwarded-For", xff)
	out.Header.Set("X-Forwarded-Proto", c.r.Scheme)
	out.Header.Set("X-Forwarded-Host", c.r.Host)
	out.Header.Set("X-Forwarded-Port", strconv.Itoa(c.r.Port))
	out.Header.Set("X-Forwarded-Path", c.r.Path)
	out.Header.Set("X-Real-IP", c.r.ClientIP)
	return out, nil
}

// streamBody copies the upstream body, flushing after every read so server-
// sent events reach the client as they arrive.
func streamBody(rw http.ResponseWriter, body io.Reader) int {
	fl, _ := rw.(http.Flusher)
	buf := make([]byte, 32<<10)
	total := 0
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := rw.Write(buf[:n]); werr != nil {
				return total
			}
			total += n
			if fl != nil {
				fl.Flush()
			}
		}
		if err != nil {
			return total
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
