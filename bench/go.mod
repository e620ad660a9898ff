module github.com/hotpath-apm/hotpath/bench

go 1.25.0

replace github.com/hotpath-apm/hotpath => ../
