package fakellm

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// apiVersionRE accepts Azure's dated versions (2024-10-21,
// 2025-01-01-preview) and the rolling aliases.
var apiVersionRE = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}(-preview)?|preview|latest|v1)$`)

func azureErrorObject(code, msg string) object {
	return object{{"error", object{{"code", code}, {"message", msg}}}}
}

func azureError(kind ErrorKind, msg, deployment string) (int, []byte) {
	pick := func(d string) string {
		if msg != "" {
			return msg
		}
		return d
	}
	switch kind {
	case ErrorUnauthorized:
		return http.StatusUnauthorized, mustJSON(azureErrorObject("401", pick(
			"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.")))
	case ErrorNotFound:
		return http.StatusNotFound, mustJSON(azureErrorObject("DeploymentNotFound", pick(
			"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.")))
	case ErrorRateLimit:
		return http.StatusTooManyRequests, mustJSON(azureErrorObject("429", pick(
			"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.")))
	case ErrorPermission:
		return http.StatusForbidden, mustJSON(azureErrorObject("403", pick("Public access is disabled. Please configure private endpoint.")))
	}
	// Model errors (context length, server errors) are OpenAI's bodies,
	// passed through by Azure.
	return openAIError(kind, msg, deployment)
}

// azureContentFilter is the per-choice annotation Azure adds.
func azureContentFilter() object {
	safe := object{{"filtered", false}, {"severity", "safe"}}
	return object{{"hate", safe}, {"self_harm", safe}, {"sexual", safe}, {"violence", safe}}
}

func azurePromptFilter() []any {
	return []any{object{{"prompt_index", 0}, {"content_filter_results", azureContentFilter()}}}
}

func (ex *exchange) serveAzure() {
	version := ex.r.URL.Query().Get("api-version")
	if version == "" {
		ex.writeJSON(http.StatusNotFound, azureErrorObject("404", "Resource not found"))
		return
	}
	if !apiVersionRE.MatchString(version) {
		ex.writeJSON(http.StatusBadRequest, azureErrorObject("BadRequest", "API version not supported"))
		return
	}
	if want := ex.s.keyFor(APIAzure); want != "" {
		got := ex.r.Header.Get("api-key")
		if got == "" {
			// Entra ID tokens arrive as Bearer; the fake treats the key as the token.
			got, _ = strings.CutPrefix(ex.r.Header.Get("Authorization"), "Bearer ")
		}
		if got != want {
			ex.fail(ErrorUnauthorized, "")
			return
		}
	}
	if !ex.s.knownModel(ex.route.deployment) {
		ex.fail(ErrorNotFound, "")
		return
	}
	ex.serveOpenAIEndpoint(ex.route.deployment)
}

// AzureDeploymentPath is the path of a deployment's endpoint, for tests that
// build Azure URLs by hand.
func AzureDeploymentPath(deployment, endpoint, apiVersion string) string {
	return fmt.Sprintf("/openai/deployments/%s/%s?api-version=%s", deployment, endpoint, apiVersion)
}
