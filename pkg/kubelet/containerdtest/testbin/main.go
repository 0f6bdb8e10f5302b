// Command testbin is the one static binary inside kinc's test images: as
// /pause it sleeps until signalled (a pod sandbox's pause process); as
// /testbin it runs tiny verbs so tests can run workloads without a registry:
//
//	testbin echo WORDS…        print WORDS to stdout
//	testbin stderr WORDS…      print WORDS to stderr
//	testbin exit CODE          exit with CODE
//	testbin sleep SECONDS      sleep (forever when SECONDS is "inf"), exit 0 on SIGTERM
//	testbin cat FILE…          print files (stdin when no FILE)
//	testbin listen PORT WORDS… serve TCP on PORT: each connection gets WORDS, then its own bytes echoed back
//	testbin winch              print the terminal size ("size ROWS COLS") now and on each SIGWINCH; exit 0 on a "q" line or EOF on stdin
//	testbin env                print the environment
//	testbin write FILE WORDS…  write WORDS to FILE
//
// Verbs chain with "--": `testbin echo hi -- sleep inf`.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	if filepath.Base(os.Args[0]) == "pause" || len(os.Args) < 2 {
		wait(-1)
		return
	}
	args := os.Args[1:]
	for len(args) > 0 {
		end := len(args)
		for i, a := range args {
			if a == "--" {
				end = i
				break
			}
		}
		run(args[:end])
		if end == len(args) {
			break
		}
		args = args[end+1:]
	}
}

func run(cmd []string) {
	if len(cmd) == 0 {
		return
	}
	switch cmd[0] {
	case "echo":
		fmt.Println(strings.Join(cmd[1:], " "))
	case "stderr":
		fmt.Fprintln(os.Stderr, strings.Join(cmd[1:], " "))
	case "exit":
		code, _ := strconv.Atoi(cmd[1])
		os.Exit(code)
	case "sleep":
		secs := -1.0
		if len(cmd) > 1 && cmd[1] != "inf" {
			secs, _ = strconv.ParseFloat(cmd[1], 64)
		}
		wait(secs)
	case "cat":
		if len(cmd) == 1 {
			_, _ = io.Copy(os.Stdout, os.Stdin)
		}
		for _, f := range cmd[1:] {
			b, err := os.ReadFile(f)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			os.Stdout.Write(b)
		}
	case "write":
		if err := os.WriteFile(cmd[1], []byte(strings.Join(cmd[2:], " ")), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "listen":
		listen(cmd[1], strings.Join(cmd[2:], " "))
	case "winch":
		winch()
	case "env":
		for _, e := range os.Environ() {
			fmt.Println(e)
		}
	default:
		fmt.Fprintln(os.Stderr, "testbin: unknown verb", cmd[0])
		os.Exit(2)
	}
}

// wait sleeps secs seconds (forever when negative) or until SIGTERM/SIGINT.
func wait(secs float64) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	var timeout <-chan time.Time
	if secs >= 0 {
		timeout = time.After(time.Duration(secs * float64(time.Second)))
	}
	select {
	case <-sig:
	case <-timeout:
	}
}

// listen serves TCP on port until killed.
func listen(port, greeting string) {
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go func() {
			defer c.Close()
			fmt.Fprintln(c, greeting)
			_, _ = io.Copy(c, c)
		}()
	}
}

// winch reports the terminal size of stdin at start and on every SIGWINCH
// until stdin sends a "q" line or ends.
func winch() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGWINCH)
	quit := make(chan struct{})
	go func() {
		s := bufio.NewScanner(os.Stdin)
		for s.Scan() {
			if strings.TrimSpace(s.Text()) == "q" {
				break
			}
		}
		close(quit)
	}()
	for {
		var ws struct{ Row, Col, X, Y uint16 }
		_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, os.Stdin.Fd(), syscall.TIOCGWINSZ, uintptr(unsafe.Pointer(&ws)))
		if errno != 0 {
			fmt.Println("size error", errno)
		} else {
			fmt.Println("size", ws.Row, ws.Col)
		}
		select {
		case <-sig:
		case <-quit:
			return
		}
	}
}
