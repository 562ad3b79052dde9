package rerank

import "strconv"

// Document is one candidate passage. ID is opaque to the server and echoed back
// (for example an OpenSearch _id); Text may be empty.
type Document struct {
	ID   string
	Text string
}

// Texts makes documents of bare texts, each with its position as ID, as the
// other clients of the service do.
func Texts(texts ...string) []Document {
	documents := make([]Document, len(texts))
	for i, text := range texts {
		documents[i] = Document{ID: strconv.Itoa(i), Text: text}
	}
	return documents
}

// Query asks for Documents to be ordered by relevance to Query. Zero values
// leave each choice to the server; the server checks the values (an empty
// query or too many documents is codes.InvalidArgument).
type Query struct {
	Query     string
	Documents []Document
	// TopN keeps only the n best documents; 0 keeps all.
	TopN int
	// RawScores answers the raw relevance logit instead of its sigmoid in [0, 1].
	RawScores bool
	// ReturnText echoes each document's text in ScoredDocument.Text.
	ReturnText bool
	// MaxLength is the token budget of one (query, document) pair; 0 uses the model's default.
	MaxLength int
	// Prompt replaces the model's instruction; empty uses the default.
	Prompt string
	// Model names the model to use; empty uses the server's default model.
	Model string
}

// Ranking is the answer to a Query.
type Ranking struct {
	// Results are best first; equal scores keep request order (lower Index first).
	Results []ScoredDocument
	// Model is the name of the model that scored the pairs.
	Model string
	Usage Usage
}

// ScoredDocument is one reranked document.
type ScoredDocument struct {
	// Index is the document's position in Query.Documents.
	Index int
	ID    string
	// Score is the sigmoid of the relevance logit in [0, 1], or the raw logit
	// when Query.RawScores was set.
	Score float64
	// Text is the document's text when Query.ReturnText was set, else empty.
	Text string
}

// Usage counts the work one call cost.
type Usage struct {
	Pairs  int
	Tokens int64
	// CachedPairs came from the server's score cache and cost no tokens.
	CachedPairs int
}

// ServerInfo describes the served models and the server's limits.
type ServerInfo struct {
	Models []ModelInfo
	// DefaultModel is used when Query.Model is empty.
	DefaultModel string
	Limits       Limits
}

// Limits are the server's bounds on a request; a request past one is
// codes.InvalidArgument, and a full queue codes.ResourceExhausted.
type Limits struct {
	// MaxDocuments is the most documents one query may carry.
	MaxDocuments int
	// BatchSize is the most pairs in one forward pass.
	BatchSize int
	// MaxQueryChars, MaxDocumentChars and MaxPromptChars bound the lengths, in characters.
	MaxQueryChars    int
	MaxDocumentChars int
	MaxPromptChars   int
	// MaxRequestTokens is the most tokens one request may feed the model.
	MaxRequestTokens int64
	// MaxMessageBytes is the largest request message the server accepts.
	MaxMessageBytes int64
	// MaxQueuedPairs is how many pairs may wait per model before ResourceExhausted.
	MaxQueuedPairs int
	// MaxBatchTokens is the most padded tokens in one forward pass.
	MaxBatchTokens int
}

// ModelInfo describes one served model.
type ModelInfo struct {
	// Name is what Query.Model selects.
	Name string
	// Source is the Hugging Face id or local directory the model was loaded from.
	Source string
	// Kind is the scoring method, for example "llm-yes-logit".
	Kind   string
	Dtype  string
	Device string
	// DefaultMaxLength is used when Query.MaxLength is 0.
	DefaultMaxLength int
	// MaxMaxLength is the largest MaxLength a query may ask for.
	MaxMaxLength  int
	DefaultPrompt string
}
