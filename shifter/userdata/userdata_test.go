package userdata

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	ssmARN    = "arn:aws:ssm:eu-west-1:111122223333:parameter/app/db-password"
	secretARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/api-key-AbCdEf"
)

// TestUserDataRuns runs the generated script with docker, systemctl and the
// aws CLI replaced by stubs, and checks what reached docker and the secrets
// file: the proof that quoting survives spaces, quotes and dollars.
func TestRenderRuns(t *testing.T) {
	c := Container{
		Image:   "example.com/team/app:1.2.3",
		Port:    8080,
		Command: []string{"/bin/sh", "-c"},
		Args:    []string{`echo "$GREETING" && exec app --name='it''s'`},
		Env: map[string]string{
			"GREETING": `hello "world" $HOME 'x' ` + "`id`",
			"EMPTY":    "",
			"MULTI":    "line one\nline two",
		},
		Secrets: map[string]string{"DB_PASSWORD": ssmARN, "API_KEY": secretARN},
	}
	script, err := Render(c)
	if err != nil {
		t.Fatal(err)
	}
	out := runScript(t, script, `p@ss 'word' $HOME "x"`)

	wantArgs := []string{
		"run", "--detach", "--name", "app", "--restart", "always", "--publish", "8080:8080",
		"--env-file", out.secretsFile,
		"--env", "EMPTY=",
		"--env", `GREETING=hello "world" $HOME 'x' ` + "`id`",
		"--env", "MULTI=line one\nline two",
		"--entrypoint", "/bin/sh",
		"example.com/team/app:1.2.3",
		"-c", `echo "$GREETING" && exec app --name='it''s'`,
	}
	if !slices.Equal(out.dockerArgs, wantArgs) {
		t.Errorf("docker args:\n got %q\nwant %q", out.dockerArgs, wantArgs)
	}

	wantSecrets := "API_KEY=p@ss 'word' $HOME \"x\"\nDB_PASSWORD=p@ss 'word' $HOME \"x\"\n"
	if out.secrets != wantSecrets {
		t.Errorf("secrets file = %q, want %q", out.secrets, wantSecrets)
	}
	if out.secretsMode != 0o600 {
		t.Errorf("secrets file mode = %o, want 600", out.secretsMode)
	}
	wantCalls := []string{
		"ssm get-parameter --region eu-west-1 --with-decryption --name " + ssmARN + " --query Parameter.Value --output text",
		"secretsmanager get-secret-value --region us-east-1 --secret-id " + secretARN + " --query SecretString --output text",
	}
	for _, call := range wantCalls {
		if !slices.Contains(out.awsCalls, call) {
			t.Errorf("aws calls %q lack %q", out.awsCalls, call)
		}
	}
	if strings.Contains(script, "p@ss") {
		t.Error("a secret value is in the script")
	}
}

func TestRenderWithoutSecretsOrCommand(t *testing.T) {
	script, err := Render(Container{Image: "nginx:1.27", Port: 80, Args: []string{"nginx", "-g", "daemon off;"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(script, "aws ") || strings.Contains(script, "env-file") {
		t.Errorf("script without secrets or ECR image uses the aws CLI or an env file:\n%s", script)
	}
	out := runScript(t, script, "")
	want := []string{"run", "--detach", "--name", "app", "--restart", "always", "--publish", "80:80",
		"nginx:1.27", "nginx", "-g", "daemon off;"}
	if !slices.Equal(out.dockerArgs, want) {
		t.Errorf("docker args:\n got %q\nwant %q", out.dockerArgs, want)
	}
}

func TestRenderLogsInToECR(t *testing.T) {
	script, err := Render(Container{Image: "111122223333.dkr.ecr.eu-central-1.amazonaws.com/app:7", Port: 80})
	if err != nil {
		t.Fatal(err)
	}
	want := "aws ecr get-login-password --region eu-central-1 | docker login --username AWS --password-stdin 111122223333.dkr.ecr.eu-central-1.amazonaws.com"
	if !strings.Contains(script, want) {
		t.Errorf("script lacks the ECR login %q:\n%s", want, script)
	}
}

func TestRenderStopsWhenASecretCannotBeRead(t *testing.T) {
	script, err := Render(Container{Image: "app:1", Port: 80, Secrets: map[string]string{"TOKEN": ssmARN}})
	if err != nil {
		t.Fatal(err)
	}
	bin := stubs(t, "")
	writeStub(t, bin, "aws", "echo denied >&2; exit 255")
	cmd := exec.Command("bash", "-c", strings.ReplaceAll(script, secretsDir, t.TempDir()))
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
	if out, err := cmd.CombinedOutput(); err == nil || strings.Contains(readFile(t, filepath.Join(bin, "docker.log")), "run") {
		t.Errorf("script went on after the aws CLI failed:\n%s", out)
	}
}

func TestRenderRejects(t *testing.T) {
	ok := Container{Image: "app:1", Port: 80}
	for name, mutate := range map[string]func(*Container){
		"no image":          func(c *Container) { c.Image = "" },
		"port 0":            func(c *Container) { c.Port = 0 },
		"port 70000":        func(c *Container) { c.Port = 70000 },
		"empty entrypoint":  func(c *Container) { c.Command = []string{""} },
		"bad env name":      func(c *Container) { c.Env = map[string]string{"A-B": "x"} },
		"bad secret name":   func(c *Container) { c.Secrets = map[string]string{"1X": ssmARN} },
		"secret not an ARN": func(c *Container) { c.Secrets = map[string]string{"X": "/app/db"} },
		"s3 ARN":            func(c *Container) { c.Secrets = map[string]string{"X": "arn:aws:s3:::bucket/key"} },
		"env and secret": func(c *Container) {
			c.Env = map[string]string{"X": "1"}
			c.Secrets = map[string]string{"X": ssmARN}
		},
		"too big": func(c *Container) { c.Env = map[string]string{"BIG": strings.Repeat("x", MaxBytes)} },
	} {
		t.Run(name, func(t *testing.T) {
			c := ok
			mutate(&c)
			if _, err := Render(c); err == nil {
				t.Error("want an error")
			}
		})
	}
}

type scriptRun struct {
	dockerArgs  []string // of `docker run`
	awsCalls    []string
	secretsFile string
	secrets     string
	secretsMode os.FileMode
}

// runScript runs script with stub commands; the aws stub prints secret.
func runScript(t *testing.T, script, secret string) scriptRun {
	t.Helper()
	bin := stubs(t, secret)
	dir := t.TempDir()
	script = strings.ReplaceAll(script, secretsDir, dir)
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=/root"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("script failed: %v\n%s\nscript:\n%s", err, out, script)
	}

	var r scriptRun
	for call := range strings.SplitSeq(readFile(t, filepath.Join(bin, "docker.log")), "\x00\x00") {
		if args := strings.Split(call, "\x00"); args[0] == "run" {
			r.dockerArgs = args
		}
	}
	if log := readFile(t, filepath.Join(bin, "aws.log")); log != "" {
		r.awsCalls = strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	}
	r.secretsFile = filepath.Join(dir, "secrets.env")
	if fi, err := os.Stat(r.secretsFile); err == nil {
		r.secretsMode = fi.Mode().Perm()
		r.secrets = readFile(t, r.secretsFile)
	}
	return r
}

// stubs returns a directory of stub commands that log their arguments.
func stubs(t *testing.T, secret string) string {
	t.Helper()
	bin := t.TempDir()
	// Each docker call: arguments NUL-separated, calls separated by two NULs.
	writeStub(t, bin, "docker", `printf '%s\0' "$@" >>"$(dirname "$0")/docker.log"; printf '\0' >>"$(dirname "$0")/docker.log"`)
	writeStub(t, bin, "systemctl", "exit 0")
	writeStub(t, bin, "aws", `echo "$*" >>"$(dirname "$0")/aws.log"; printf '%s\n' `+quote(secret))
	return bin
}

func writeStub(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/bash\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}
