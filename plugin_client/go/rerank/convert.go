package rerank

import (
	"fmt"
	"math"

	rerankv1 "github.com/rerank-service/rerank/plugin_client/go/rerankpb/rerank/v1"
)

// The only place that converts between this package's types and rerank.v1 messages.

func toProto(q Query) (*rerankv1.RerankRequest, error) {
	topN, err := toUint32("TopN", q.TopN, "0 keeps all documents")
	if err != nil {
		return nil, err
	}
	maxLength, err := toUint32("MaxLength", q.MaxLength, "0 uses the model's default")
	if err != nil {
		return nil, err
	}
	documents := make([]*rerankv1.Document, len(q.Documents))
	for i, d := range q.Documents {
		documents[i] = &rerankv1.Document{Id: d.ID, Text: d.Text}
	}
	return &rerankv1.RerankRequest{
		Query:      q.Query,
		Documents:  documents,
		TopN:       topN,
		RawScores:  q.RawScores,
		ReturnText: q.ReturnText,
		MaxLength:  maxLength,
		Prompt:     q.Prompt,
		Model:      q.Model,
	}, nil
}

func toUint32(field string, value int, zeroMeans string) (uint32, error) {
	if value < 0 || value > math.MaxUint32 {
		return 0, fmt.Errorf("rerank: %s must be in [0, %d] (%s), got %d", field, uint32(math.MaxUint32), zeroMeans, value)
	}
	return uint32(value), nil
}

func rankingFromProto(r *rerankv1.RerankResponse) *Ranking {
	results := make([]ScoredDocument, len(r.GetResults()))
	for i, result := range r.GetResults() {
		results[i] = ScoredDocument{
			Index: int(result.GetIndex()),
			ID:    result.GetId(),
			Score: result.GetScore(),
			Text:  result.GetText(),
		}
	}
	usage := r.GetUsage()
	return &Ranking{
		Results: results,
		Model:   r.GetModel(),
		Usage: Usage{
			Pairs:       int(usage.GetPairs()),
			Tokens:      int64(usage.GetTokens()),
			CachedPairs: int(usage.GetCachedPairs()),
		},
	}
}

func serverInfoFromProto(r *rerankv1.GetModelInfoResponse) *ServerInfo {
	models := make([]ModelInfo, len(r.GetModels()))
	for i, m := range r.GetModels() {
		models[i] = ModelInfo{
			Name:             m.GetName(),
			Source:           m.GetSource(),
			Kind:             m.GetKind(),
			Dtype:            m.GetDtype(),
			Device:           m.GetDevice(),
			DefaultMaxLength: int(m.GetDefaultMaxLength()),
			MaxMaxLength:     int(m.GetMaxMaxLength()),
			DefaultPrompt:    m.GetDefaultPrompt(),
		}
	}
	limits := r.GetLimits()
	return &ServerInfo{
		Models:       models,
		DefaultModel: r.GetDefaultModel(),
		Limits: Limits{
			MaxDocuments:     int(limits.GetMaxDocuments()),
			BatchSize:        int(limits.GetBatchSize()),
			MaxQueryChars:    int(limits.GetMaxQueryChars()),
			MaxDocumentChars: int(limits.GetMaxDocumentChars()),
			MaxPromptChars:   int(limits.GetMaxPromptChars()),
			MaxRequestTokens: int64(limits.GetMaxRequestTokens()),
			MaxMessageBytes:  int64(limits.GetMaxMessageBytes()),
			MaxQueuedPairs:   int(limits.GetMaxQueuedPairs()),
			MaxBatchTokens:   int(limits.GetMaxBatchTokens()),
		},
	}
}
