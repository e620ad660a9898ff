package search

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// maxSegmenterAnswer bounds what the service reads of a segmenter's answer.
const maxSegmenterAnswer = 1 << 20

// segment asks the segmenter for q's tokens. The call is a span of the request's transaction (the client
// is agent.WrapClient'd), and the segmenter continues the trace from its traceparent header. While it
// waits, the request's goroutine is blocked in the HTTP client: a goroutine profile shows it here.
func (s *Service) segment(ctx context.Context, q string) ([]string, error) {
	body, err := json.Marshal(map[string]string{"text": q})
	if err != nil {
		return nil, fmt.Errorf("segmenter request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.segmenterURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("segmenter request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.segmenter.Do(req)
	if err != nil {
		return nil, fmt.Errorf("segmenter: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxSegmenterAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("segmenter answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("segmenter: %s: %.200s", resp.Status, answer)
	}
	if len(answer) > maxSegmenterAnswer {
		return nil, fmt.Errorf("segmenter answer over %d bytes", maxSegmenterAnswer)
	}
	var out struct {
		Tokens []string `json:"tokens"`
	}
	if err := json.Unmarshal(answer, &out); err != nil {
		return nil, fmt.Errorf("segmenter answer: %w", err)
	}
	return out.Tokens, nil
}
