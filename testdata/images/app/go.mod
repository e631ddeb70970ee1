module picatest.test/app

go 1.26.8
