package kongemu

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestResponseType(t *testing.T) {
	tests := []struct{ accept, want string }{
		{"", "application/json; charset=utf-8"},
		{"text/html", "text/html; charset=utf-8"},
		{"text/html;q=0.5, application/xml", "application/xml; charset=utf-8"},
		{"text/html, application/xml", "text/html; charset=utf-8"},
		{"text/*", "text/plain; charset=utf-8"},
		{"*/*", "application/json; charset=utf-8"},
		{"application/xml;q=0, text/plain;q=0.1", "text/plain; charset=utf-8"},
		{"image/png", "application/json; charset=utf-8"},
		{"TEXT/HTML", "application/json; charset=utf-8"},
		{"text/html; charset=utf-8; q=0.9, text/plain; q=0.8", "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			require.Equal(t, tt.want, ResponseType(tt.accept))
		})
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name   string
		resp   ErrorResponse
		accept string
		ct     string
		body   string
	}{
		{
			name: "json", resp: ErrorResponse{Status: 404, Message: "no Route matched with those values"},
			ct: "application/json; charset=utf-8", body: "{\n  \"message\":\"no Route matched with those values\",\n  \"request_id\":\"rid\"\n}",
		},
		{
			name: "default message", resp: ErrorResponse{Status: 503}, accept: "text/plain",
			ct: "text/plain; charset=utf-8", body: "The upstream server is currently unavailable\nrequest_id: rid\n",
		},
		{
			name: "unknown status", resp: ErrorResponse{Status: 599}, accept: "text/plain",
			ct: "text/plain; charset=utf-8", body: "The upstream server responded with 599\nrequest_id: rid\n",
		},
		{
			name: "html adds a period", resp: ErrorResponse{Status: 401, Message: "Unauthorized"}, accept: "text/html",
			ct: "text/html; charset=utf-8",
			body: "<!doctype html>\n<html>\n  <head>\n    <meta charset=\"utf-8\">\n    <title>Error</title>\n  </head>\n" +
				"  <body>\n    <h1>Error</h1>\n    <p>Unauthorized.</p>\n    <p>request_id: rid</p>\n  </body>\n</html>\n",
		},
		{
			name: "xml", resp: ErrorResponse{Status: 426, Message: "Please use HTTPS protocol"}, accept: "application/xml",
			ct:   "application/xml; charset=utf-8",
			body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error>\n  <message>Please use HTTPS protocol</message>\n  <requestid>rid</requestid>\n</error>\n",
		},
		{
			name: "redirect has no body", resp: ErrorResponse{Status: 308, Headers: http.Header{"Location": {"https://x/"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, body := tt.resp.Render(tt.accept, "rid")
			require.Equal(t, tt.ct, h.Get("Content-Type"))
			require.Equal(t, tt.body, string(body))
			for k := range tt.resp.Headers {
				require.Equal(t, tt.resp.Headers[k], h[k])
			}
		})
	}
	require.EqualError(t, &ErrorResponse{Status: 401, Message: "Unauthorized"}, "kong response 401: Unauthorized")
}
