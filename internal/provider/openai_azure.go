package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"

	"github.com/tollgate-ai/tollgate/internal/llm"
)

// DefaultAzureAPIVersion is the api-version sent to Azure OpenAI when the
// target sets none: the latest GA version of the data-plane inference API
// with the deployments path, which knows stream_options.
const DefaultAzureAPIVersion = "2024-10-21"

// azureStreamOptionsSince is the first dated api-version that accepts
// stream_options (2024-09-01-preview); older ones reject the request.
const azureStreamOptionsSince = "2024-09-01"

var datedVersion = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)

// azure is the adapter of Azure OpenAI: OpenAI's bodies on a deployment
// path, with an api-version and an api-key header.
type azure struct{}

var azurePaths = map[llm.Format]string{
	llm.FormatChat:        "chat/completions",
	llm.FormatCompletions: "completions",
	llm.FormatEmbeddings:  "embeddings",
}

func (a *azure) Supports(f llm.Format) bool {
	_, ok := azurePaths[f]
	return ok
}

func (a *azure) Request(ctx context.Context, t Target, c *Call) (*http.Request, error) {
	f := c.format()
	if !a.Supports(f) {
		return nil, unsupported("azure", fmt.Sprintf("the %s API", apiName(f)))
	}
	base, err := baseURL(t.URL, "")
	if err != nil {
		return nil, err
	}
	req, err := c.request()
	if err != nil {
		return nil, badBody("azure", err)
	}
	deployment := t.Deployment
	if deployment == "" {
		deployment = t.Model
	}
	if deployment == "" {
		deployment = req.Model
	}
	if deployment == "" {
		return nil, configError("azure target needs a deployment")
	}
	version := t.APIVersion
	if version == "" {
		version = DefaultAzureAPIVersion
	}
	body, err := openAIBody(req, t.Model, azureStreamOptions(version))
	if err != nil {
		return nil, badBody("azure", err)
	}
	u := endpoint(base, "/openai/deployments/"+url.PathEscape(deployment)+"/"+azurePaths[f])
	q := u.Query()
	q.Set("api-version", version)
	u.RawQuery = q.Encode()
	return newRequest(ctx, u, body, c, t, req.Stream, nil, "Api-Key", t.APIKey)
}

// azureStreamOptions reports whether an api-version accepts
// stream_options; undated versions (v1, latest, preview) do.
func azureStreamOptions(version string) bool {
	if !datedVersion.MatchString(version) {
		return true
	}
	return version[:10] >= azureStreamOptionsSince
}

func (a *azure) Response(c *Call, body []byte) ([]byte, Usage, error) {
	return openAIResponse("azure", c, body)
}

// Stream passes Azure's stream through like OpenAI's. Azure's own chunks
// (the prompt_filter_results chunk with empty choices and no usage that
// comes first, content_filter_results on choices) are kept: only a chunk
// with empty choices and a usage is the usage chunk.
func (a *azure) Stream(c *Call, upstream io.Reader) Stream {
	return newPassthrough("azure", c, upstream)
}

func (a *azure) Error(status int, h http.Header, body []byte) *UpstreamError {
	return openAIError("azure", status, h, body)
}
