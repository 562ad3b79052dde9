// Command rerank-example reranks a few passages against a query and prints them
// best first.
//
//	go run ./cmd/rerank-example -addr 127.0.0.1:50051 -query 'what is a panda?' \
//	    'The giant panda is a bear.' 'Paris is in France.'
//
// RERANK_API_KEY, when set, is sent as a bearer token.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/rerank-service/rerank/plugin_client/go/rerank"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address, host:port")
	query := flag.String("query", "what is a panda?", "the search query")
	topN := flag.Int("top-n", 0, "keep only the n best documents (0: all)")
	timeout := flag.Duration("timeout", 10*time.Second, "deadline of the call")
	caFile := flag.String("ca", "", "use TLS, trusting this PEM CA file")
	flag.Parse()
	documents := flag.Args()
	if len(documents) == 0 {
		documents = []string{
			"The giant panda is a bear species endemic to China.",
			"Paris is the capital of France.",
			"Pandas eat bamboo almost exclusively.",
		}
	}
	if err := run(*addr, *caFile, *timeout, rerank.Query{Query: *query, Documents: rerank.Texts(documents...), TopN: *topN}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(addr, caFile string, timeout time.Duration, query rerank.Query) error {
	options := []rerank.Option{rerank.WithTimeout(timeout)}
	if caFile != "" {
		options = append(options, rerank.WithTLSFiles(caFile, "", ""))
	}
	if key := os.Getenv("RERANK_API_KEY"); key != "" {
		options = append(options, rerank.WithAPIKey(key))
	}
	client, err := rerank.NewClient(addr, options...)
	if err != nil {
		return err
	}
	defer client.Close()

	ranking, err := client.Rerank(context.Background(), query)
	if err != nil {
		return err
	}
	fmt.Printf("model %s, %d pairs, %d tokens\n", ranking.Model, ranking.Usage.Pairs, ranking.Usage.Tokens)
	for _, result := range ranking.Results {
		fmt.Printf("%.4f  %s\n", result.Score, query.Documents[result.Index].Text)
	}
	return nil
}
