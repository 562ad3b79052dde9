package rerank_test

import (
	"context"
	"errors"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/rerank-service/rerank/plugin_client/go/rerank"
)

var pandaTexts = []string{
	"The giant panda is a bear species endemic to China.",
	"Paris is the capital of France.",
	"Pandas eat bamboo.",
	"",
}

// liveClient connects to the server at RERANK_ADDR. Without it the test is
// skipped on a developer's machine and fails under CI (CI set), where a skip
// would hide that it never ran; tests/integration/test_java_go_clients.py sets it.
func liveClient(t *testing.T) *rerank.Client {
	t.Helper()
	addr := os.Getenv("RERANK_ADDR")
	if addr == "" {
		const why = "RERANK_ADDR is not set: start a server and export RERANK_ADDR=host:port"
		if os.Getenv("CI") != "" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	client, err := rerank.NewClient(addr, rerank.WithTimeout(60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func pandaQuery() rerank.Query {
	return rerank.Query{Query: "what is a panda?", Documents: rerank.Texts(pandaTexts...)}
}

func mustRerank(t *testing.T, client *rerank.Client, q rerank.Query) *rerank.Ranking {
	t.Helper()
	ranking, err := client.Rerank(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return ranking
}

func byIndex(results []rerank.ScoredDocument) []rerank.ScoredDocument {
	sorted := slices.Clone(results)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Index < sorted[j].Index })
	return sorted
}

func TestLiveRanksEveryDocumentBestFirstWithScoresInUnitInterval(t *testing.T) {
	ranking := mustRerank(t, liveClient(t), pandaQuery())

	if len(ranking.Results) != len(pandaTexts) {
		t.Fatalf("got %d results, want %d", len(ranking.Results), len(pandaTexts))
	}
	for i, result := range byIndex(ranking.Results) {
		if result.Index != i {
			t.Fatalf("indexes are not a permutation of the documents: %+v", ranking.Results)
		}
		if result.Score < 0 || result.Score > 1 {
			t.Errorf("score %v of document %d is outside [0, 1]", result.Score, i)
		}
	}
	if !sort.SliceIsSorted(ranking.Results, func(i, j int) bool { return ranking.Results[i].Score > ranking.Results[j].Score }) {
		t.Errorf("results are not best first: %+v", ranking.Results)
	}
	if ranking.Usage.Pairs != len(pandaTexts) || ranking.Model == "" {
		t.Errorf("usage %+v, model %q", ranking.Usage, ranking.Model)
	}
}

func TestLiveTopNKeepsTheBestDocuments(t *testing.T) {
	client := liveClient(t)
	all := mustRerank(t, client, pandaQuery()).Results
	q := pandaQuery()
	q.TopN = 2
	top := mustRerank(t, client, q).Results

	if len(top) != 2 || top[0].Index != all[0].Index || top[1].Index != all[1].Index {
		t.Errorf("top 2 %+v are not the first two of %+v", top, all)
	}
}

func TestLiveRawScoresAreTheLogitsOfTheDefaultScores(t *testing.T) {
	client := liveClient(t)
	sigmoid := byIndex(mustRerank(t, client, pandaQuery()).Results)
	q := pandaQuery()
	q.RawScores = true
	raw := byIndex(mustRerank(t, client, q).Results)

	for i := range raw {
		if want := 1 / (1 + math.Exp(-raw[i].Score)); math.Abs(sigmoid[i].Score-want) > 1e-4 {
			t.Errorf("document %d: sigmoid(raw %v) = %v, default score %v", i, raw[i].Score, want, sigmoid[i].Score)
		}
	}
}

func TestLiveReturnTextEchoesEachDocumentsText(t *testing.T) {
	q := pandaQuery()
	q.ReturnText = true
	for _, result := range mustRerank(t, liveClient(t), q).Results {
		if result.Text != pandaTexts[result.Index] {
			t.Errorf("document %d: text %q, want %q", result.Index, result.Text, pandaTexts[result.Index])
		}
	}
}

func TestLiveIDsAreEchoed(t *testing.T) {
	q := rerank.Query{Query: "what is a panda?", Documents: []rerank.Document{{ID: "doc-a", Text: pandaTexts[0]}, {ID: "doc-b", Text: pandaTexts[1]}}}
	for _, result := range mustRerank(t, liveClient(t), q).Results {
		if want := q.Documents[result.Index].ID; result.ID != want {
			t.Errorf("document %d: id %q, want %q", result.Index, result.ID, want)
		}
	}
}

func TestLiveModelInfoDescribesTheDefaultModel(t *testing.T) {
	client := liveClient(t)
	info, err := client.ModelInfo(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(info.Models, func(m rerank.ModelInfo) bool { return m.Name == info.DefaultModel }) || info.Limits.MaxDocuments <= 0 || info.Limits.BatchSize <= 0 {
		t.Fatalf("default model %q is not among %+v, or no limits", info.DefaultModel, info.Models)
	}
	if model := mustRerank(t, client, pandaQuery()).Model; model != info.DefaultModel {
		t.Errorf("rerank used %q, want the default %q", model, info.DefaultModel)
	}
}

func TestLiveEmptyQueryIsInvalidArgument(t *testing.T) {
	_, err := liveClient(t).Rerank(context.Background(), rerank.Query{Documents: rerank.Texts("d")})

	var rerankErr *rerank.Error
	if !errors.As(err, &rerankErr) || rerankErr.Code != codes.InvalidArgument || rerankErr.Retryable() {
		t.Fatalf("got %v, want a final InvalidArgument *rerank.Error", err)
	}
	if !strings.HasPrefix(err.Error(), "rerank.v1.Reranker/Rerank failed: InvalidArgument: ") {
		t.Errorf("message %q", err)
	}
}

func TestLiveUnknownModelIsNotFound(t *testing.T) {
	q := pandaQuery()
	q.Model = "no-such-model"
	_, err := liveClient(t).Rerank(context.Background(), q)

	if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), "no-such-model") {
		t.Fatalf("got %v, want NotFound naming the model", err)
	}
}

func TestLiveTinyDeadlineIsDeadlineExceeded(t *testing.T) {
	client := liveClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err := client.Rerank(ctx, pandaQuery())

	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
}

func TestLiveConcurrentCallsAgree(t *testing.T) {
	client := liveClient(t)
	want := mustRerank(t, client, pandaQuery()).Results
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			ranking, err := client.Rerank(context.Background(), pandaQuery())
			if err == nil && ranking.Results[0].Index != want[0].Index {
				err = errors.New("a concurrent call ranked another document first")
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
