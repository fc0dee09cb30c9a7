import { Global, Module } from '@nestjs/common';
import { DirectoryReader } from './directory.reader';

@Global()
@Module({ providers: [DirectoryReader], exports: [DirectoryReader] })
export class DirectoryModule {}
