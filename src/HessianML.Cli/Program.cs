return HessianML.Cli.HessianCli.Run(args);
