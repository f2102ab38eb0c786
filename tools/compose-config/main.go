// compose-config: `docker compose config` without a Docker engine. It loads a compose file with compose-go, the
// library docker compose itself uses to read, interpolate, validate (against the Compose Specification schema) and
// normalise compose files, and prints the resolved project as YAML, or the error, exiting 1.
//
//	compose-config -f docker-compose.yml [--services]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	file := flag.String("f", "docker-compose.yml", "compose file")
	services := flag.Bool("services", false, "print the service names only")
	flag.Parse()
	opts, err := cli.NewProjectOptions([]string{*file}, cli.WithOsEnv, cli.WithDotEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *services {
		names := project.ServiceNames()
		sort.Strings(names)
		for _, n := range names {
			fmt.Println(n)
		}
		return
	}
	out, err := project.MarshalYAML()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
}
